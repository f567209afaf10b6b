import { setTimeout as sleep } from 'node:timers/promises';
import type { MqttClient } from 'mqtt';
import { deviceTopic } from '@peakwatch/contracts';
import { connectDevice } from './publisher';

/** Site id of the synthetic devices of load mode; their ids are load-00001, load-00002, ... */
export const LOAD_SITE = 'load';

export function loadDeviceId(index: number): string {
  return `load-${String(index + 1).padStart(5, '0')}`;
}

export interface LoadOptions {
  brokerUrl: string;
  devices: number;
  /** Readings per second across all devices. */
  rate: number;
  durationS?: number;
  qos: 0 | 1 | 2;
  credentials: Record<string, string>;
  signal?: AbortSignal;
  log: (message: string, fields?: Record<string, unknown>) => void;
}

export interface LoadSummary {
  devices: number;
  targetRate: number;
  sent: number;
  acknowledged: number;
  seconds: number;
  acknowledgedPerSec: number;
}

/** Tick of the load generator (ms): each tick sends rate × tick readings, round robin over the devices. */
const TICK_MS = 50;

/**
 * Load mode for benchmarks: N synthetic devices each publishing single readings (a rising energy register and a
 * power value) so that together they send `rate` readings per second.
 */
export async function runLoad(options: LoadOptions): Promise<LoadSummary> {
  const clients: MqttClient[] = [];
  for (let i = 0; i < options.devices; i += 100) {
    const ids = Array.from({ length: Math.min(100, options.devices - i) }, (_, k) => loadDeviceId(i + k));
    clients.push(
      ...(await Promise.all(ids.map((id) => connectDevice({ ...options, maxInFlight: 0 }, LOAD_SITE, id)))),
    );
  }
  options.log('load devices connected', { devices: clients.length });
  const registers = new Float64Array(clients.length);
  const seqs = new Uint32Array(clients.length);
  let sent = 0;
  let acknowledged = 0;
  let next = 0;
  const start = Date.now();
  const end = options.durationS === undefined ? Number.POSITIVE_INFINITY : start + options.durationS * 1000;
  while (!options.signal?.aborted && Date.now() < end) {
    const due = Math.floor(((Date.now() - start) / 1000) * options.rate) - sent;
    for (let k = 0; k < due; k++) {
      const i = next;
      next = (next + 1) % clients.length;
      const powerKw = 5 + (i % 10);
      registers[i] = registers[i]! + powerKw / 3600;
      const payload = JSON.stringify({
        ts: Date.now(),
        seq: seqs[i]!++,
        values: { energy_import_kwh: Math.round(registers[i] * 1000) / 1000, power_kw: powerKw },
      });
      clients[i]!.publish(
        deviceTopic(LOAD_SITE, loadDeviceId(i), 'telemetry'),
        payload,
        { qos: options.qos },
        (error) => {
          if (!error) acknowledged++;
        },
      );
      sent++;
    }
    await sleep(TICK_MS);
  }
  const seconds = (Date.now() - start) / 1000;
  await Promise.all(clients.map((c) => c.endAsync()));
  return {
    devices: clients.length,
    targetRate: options.rate,
    sent,
    acknowledged,
    seconds,
    acknowledgedPerSec: Math.round(acknowledged / seconds),
  };
}
