import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { parseDeviceTopic } from '@peakwatch/contracts';
import { loadScenario, runScenario } from '@peakwatch/device-sim';
import { EmbeddedBroker } from '@peakwatch/mqtt';
import { connectClient } from '../support/mqtt';
import { eventually } from '../support/processes';

const SCENARIO = join(__dirname, '../../seeds/scenarios/haidian-campus.yaml');

interface DeviceTruth {
  messages: { readings: [number, number][]; duplicates: number[]; events: number; malformed: number };
}

describe('device simulator against the real embedded broker', () => {
  let broker: EmbeddedBroker;
  let subscriber: MqttClient;
  const received = new Map<string, { readings: [number, number][]; malformed: number; events: number }>();
  const statuses: { device: string; status: string }[] = [];

  beforeAll(async () => {
    broker = await EmbeddedBroker.start({ port: 0, host: '127.0.0.1' });
    subscriber = await connectClient(`mqtt://127.0.0.1:${broker.port}`, { clientId: 'truth-check' });
    subscriber.on('message', (topic, payload) => {
      const parsed = parseDeviceTopic(topic);
      if (!parsed) return;
      if (parsed.channel === 'status') {
        statuses.push({ device: parsed.deviceId, status: payload.toString() });
        return;
      }
      const entry = received.get(parsed.deviceId) ?? { readings: [], malformed: 0, events: 0 };
      received.set(parsed.deviceId, entry);
      if (parsed.channel === 'event') {
        entry.events++;
        return;
      }
      let body: unknown;
      try {
        body = JSON.parse(payload.toString('utf8'));
      } catch {
        entry.malformed++;
        return;
      }
      for (const r of Array.isArray(body) ? body : [body]) {
        const reading = r as { seq?: unknown; ts?: unknown };
        if (typeof reading.seq === 'number' && typeof reading.ts === 'number')
          entry.readings.push([reading.seq, reading.ts]);
        else entry.malformed++;
      }
    });
    await subscriber.subscribeAsync(
      ['energy/v1/+/+/telemetry', 'energy/v1/+/+/event', 'energy/v1/+/+/status'],
      { qos: 1 },
    );
  });

  afterAll(async () => {
    await subscriber?.endAsync();
    await broker?.close();
  });

  it('delivers every message the ground truth lists: a 2-day backfill with faults, batched, QoS 1', async () => {
    const scenario = loadScenario(SCENARIO);
    const fromMs = Date.parse('2025-01-13T00:00:00+08:00');
    const summary = await runScenario({
      scenario,
      seed: 11,
      fromMs,
      toMs: fromMs + 2 * 86_400_000,
      speed: Number.POSITIVE_INFINITY,
      brokerUrl: `mqtt://127.0.0.1:${broker.port}`,
      credentials: {},
      qos: 1,
      log: () => undefined,
    });
    const truth = summary.truth as { devices: Record<string, DeviceTruth> };
    const expectedReadings = Object.values(truth.devices).reduce(
      (n, d) => n + d.messages.readings.length + d.messages.duplicates.length,
      0,
    );
    // 23 devices × 577 readings, less the gap (24) and the offline window (9), plus the duplicates
    expect(expectedReadings).toBeGreaterThan(23 * 577 - 24 - 9);
    const receivedCount = (): number => [...received.values()].reduce((n, d) => n + d.readings.length, 0);
    expect(await eventually(() => receivedCount() === expectedReadings, 30_000)).toBe(true);

    for (const [deviceId, device] of Object.entries(truth.devices)) {
      const got = received.get(deviceId)!;
      const expected = [
        ...device.messages.readings,
        ...device.messages.duplicates.map((seq) => device.messages.readings.find(([s]) => s === seq)!),
      ];
      const key = ([seq, ts]: [number, number]): string => `${seq}@${ts}`;
      expect(got.readings.map(key).sort()).toEqual(expected.map(key).sort());
      expect(got.malformed).toBe(device.messages.malformed);
      expect(got.events).toBe(device.messages.events);
    }
    // batched: far fewer messages than readings (12 readings per message while catching up)
    expect(summary.messages).toBeLessThan(summary.readings / 5);
    // the offline fault drops the connection: the broker publishes the will, then the device comes back
    const hp1 = statuses.filter((s) => s.device === 'b2-hp1').map((s) => s.status);
    expect(hp1).toEqual(expect.arrayContaining(['online', 'offline']));
    expect(hp1.indexOf('offline')).toBeLessThan(hp1.lastIndexOf('online'));
  });
});
