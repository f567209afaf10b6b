import mqtt, { type MqttClient } from 'mqtt';
import { deviceTopic } from '@peakwatch/contracts';
import { LOAD_SITE, loadDeviceId } from '@peakwatch/device-sim';
import { Progress } from '@peakwatch/runtime';

/** Connects `n` load devices (`load-00001`...) in groups, with a shared secret (or none). */
export async function connectDevices(url: string, n: number, secret?: string): Promise<MqttClient[]> {
  const clients: MqttClient[] = [];
  for (let i = 0; i < n; i += 50) {
    const group = Array.from({ length: Math.min(50, n - i) }, (_, k) => i + k);
    clients.push(
      ...(await Promise.all(
        group.map(
          (index) =>
            new Promise<MqttClient>((resolve, reject) => {
              const client = mqtt.connect(url, {
                clientId: `bench-${loadDeviceId(index)}`,
                username: loadDeviceId(index),
                ...(secret ? { password: secret } : {}),
                reconnectPeriod: 0,
                connectTimeout: 120_000,
              });
              client.once('connect', () => resolve(client));
              client.once('error', reject);
            }),
        ),
      )),
    );
  }
  return clients;
}

export interface LoadResult {
  sent: number;
  acked: number;
  seconds: number;
  /** Send time (ms) of each seq of device 0, for latency. */
  sentAt: Map<number, number>;
  /** Publish-to-acknowledgement times (ms) of device 0's messages (single readings only). */
  ackMs: number[];
}

/**
 * Publishes QoS 1 readings from the clients for `seconds`: as fast as acknowledgements allow (a window of
 * `window` unacknowledged per client), or at `rate` readings/s. `batch` readings per message.
 */
export async function publishLoad(
  clients: MqttClient[],
  {
    seconds,
    rate,
    batch = 1,
    window = 100,
    tsBase = Date.now(),
  }: { seconds: number; rate?: number; batch?: number; window?: number; tsBase?: number },
): Promise<LoadResult> {
  const result: LoadResult = { sent: 0, acked: 0, seconds: 0, sentAt: new Map(), ackMs: [] };
  const seqs = new Array<number>(clients.length).fill(0);
  const inFlight = new Array<number>(clients.length).fill(0);
  const start = Date.now();
  const end = start + seconds * 1000;
  // readings acknowledged so far, their rate, and the time to the phase's end (standard error)
  const progress = new Progress('load', 'readings acknowledged', { endsAt: end });
  let next = 0;
  let refilling = false;
  const refill = (): void => {
    refilling = false;
    progress.update(result.acked);
    if (Date.now() >= end) return;
    for (let i = 0; i < clients.length; i++) while (inFlight[i]! < window) sendOne(i);
  };
  const sendOne = (i: number): void => {
    const client = clients[i]!;
    const readings = [];
    const sentAtMs = Date.now();
    for (let b = 0; b < batch; b++) {
      const seq = seqs[i]!++;
      if (i === 0 && batch === 1) result.sentAt.set(seq, Date.now());
      readings.push({
        ts: rate ? Date.now() : tsBase + seq,
        seq,
        values: { energy_import_kwh: seq / 100, power_kw: 3.5 },
      });
    }
    inFlight[i]!++;
    result.sent += batch;
    client.publish(
      deviceTopic(LOAD_SITE, loadDeviceId(i), 'telemetry'),
      JSON.stringify(batch === 1 ? readings[0] : readings),
      { qos: 1 },
      (error) => {
        inFlight[i]!--;
        if (!error) result.acked += batch;
        if (!error && i === 0 && batch === 1) result.ackMs.push(Date.now() - sentAtMs);
        // As fast as acknowledgements allow: the acknowledgements of one turn of the event loop refill the windows
        // together, in the next (sends stay batched, and nothing polls while waiting).
        if (!rate && !refilling) {
          refilling = true;
          setImmediate(refill);
        }
      },
    );
  };
  if (rate) {
    while (Date.now() < end) {
      const due = Math.floor(((Date.now() - start) / 1000) * rate) - result.sent;
      for (let k = 0; k < due; k++) {
        sendOne(next);
        next = (next + 1) % clients.length;
      }
      progress.update(result.acked);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  } else {
    refill();
    await new Promise((resolve) => setTimeout(resolve, end - Date.now()));
  }
  while (result.acked < result.sent && Date.now() < end + 30_000)
    await new Promise((resolve) => setTimeout(resolve, 10));
  result.seconds = (Date.now() - start) / 1000;
  progress.finish(result.acked);
  return result;
}
