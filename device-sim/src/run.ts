import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { progressFields } from '@peakwatch/runtime';
import { DevicePublishers } from './publisher';
import { Simulation, type Outgoing, type Reading } from './simulation';
import type { Scenario } from './scenario';

export interface RunOptions {
  scenario: Scenario;
  seed: number;
  /** Start of virtual time (aligned to the interval). */
  fromMs: number;
  /** End of virtual time, inclusive; undefined runs until stopped, following real time once caught up. */
  toMs?: number;
  /** Virtual seconds per real second; Infinity publishes history as fast as the broker acknowledges. */
  speed: number;
  brokerUrl: string;
  credentials: Record<string, string>;
  qos: 0 | 1 | 2;
  /** Where to write the ground truth (on finish and on stop). */
  truthFile?: string;
  log: (message: string, fields?: Record<string, unknown>) => void;
  /** Stops the run (Ctrl-C); the ground truth is written up to the last step. */
  signal?: AbortSignal;
  /** How often progress is logged (ms). */
  progressEveryMs?: number;
  /** Publishes unacknowledged at once across devices (default 256). */
  maxInFlight?: number;
  /** Called once when the history is published and virtual time has caught up with real time. */
  onCaughtUp?: () => void;
  /**
   * The present, which virtual time may not pass (epoch ms; default `Date.now`). A test that simulates a period of
   * its choosing passes the clock it runs PeakWatch on.
   */
  now?: () => number;
}

export interface RunSummary {
  fromMs: number;
  /** Virtual time of the last step published. */
  lastStepMs: number;
  readings: number;
  messages: number;
  truth: object;
}

/**
 * Generates the messages of a finished window without a broker: the same sequence the publisher sends.
 * Used by tests (determinism, physics) and to produce a ground truth alone.
 */
export function* generate(simulation: Simulation, toMs: number): Generator<Outgoing> {
  while (simulation.nextStepMs <= toMs) {
    for (const item of simulation.step({ last: simulation.nextStepMs === toMs })) {
      record(simulation, item);
      yield item;
    }
  }
}

function record(simulation: Simulation, item: Outgoing): void {
  switch (item.type) {
    case 'reading':
      simulation.truth.readingSent(
        item.deviceId,
        item.reading.seq,
        item.reading.ts,
        item.trueTs,
        item.duplicate,
      );
      break;
    case 'malformed':
      simulation.truth.malformedSent(item.deviceId);
      break;
    case 'event':
      simulation.truth.eventSent(item.deviceId);
      break;
    case 'disconnect':
    case 'wrong_credentials':
      break;
  }
}

/** Runs a scenario against a broker: backfill, accelerated or real time, according to `toMs` and `speed`. */
export async function runScenario(options: RunOptions): Promise<RunSummary> {
  const { scenario, log } = options;
  const simulation = new Simulation(scenario, { seed: options.seed, fromMs: options.fromMs });
  const publishers = new DevicePublishers({
    brokerUrl: options.brokerUrl,
    credentials: options.credentials,
    qos: options.qos,
    maxInFlight: options.maxInFlight ?? 256,
  });
  const devices = scenario.sites.flatMap((site) =>
    site.devices.map((d) => ({ siteId: site.id, deviceId: d.id })),
  );
  await publishers.connectAll(devices);
  log('connected', { devices: devices.length, broker: options.brokerUrl });

  const batches = new Map<string, { siteId: string; topic: string; readings: Reading[] }>();
  let readings = 0;
  let messages = 0;
  const flush = async (deviceId: string): Promise<void> => {
    const batch = batches.get(deviceId);
    if (!batch || batch.readings.length === 0) return;
    batches.delete(deviceId);
    const payload = JSON.stringify(batch.readings.length === 1 ? batch.readings[0] : batch.readings);
    await publishers.publish(batch.siteId, deviceId, batch.topic, payload);
    messages++;
  };
  const flushAll = async (): Promise<void> => {
    for (const deviceId of [...batches.keys()]) await flush(deviceId);
  };

  const now = options.now ?? Date.now;
  const wallStart = Date.now();
  let lastProgress = wallStart;
  let lastStepMs = options.fromMs;
  let caughtUp = false;
  const stepMs = simulation.intervalMs;
  try {
    while (!options.signal?.aborted) {
      const t = simulation.nextStepMs;
      if (options.toMs !== undefined && t > options.toMs) break;
      // Virtual time may not pass real time (no readings from the future), nor run faster than `speed`.
      const elapsedMs = Date.now() - wallStart;
      const paced = Number.isFinite(options.speed)
        ? options.fromMs + elapsedMs * options.speed
        : Number.POSITIVE_INFINITY;
      const allowed = Math.min(now(), paced);
      if (t > allowed) {
        await flushAll();
        if (t > now() && !caughtUp) {
          caughtUp = true;
          await publishers.drain();
          options.onCaughtUp?.();
        }
        const waitRealMs = t - now();
        const waitPaceMs = Number.isFinite(options.speed)
          ? (t - options.fromMs) / options.speed - elapsedMs
          : 0;
        await sleep(Math.max(waitRealMs, waitPaceMs, 1), undefined, { signal: options.signal }).catch(
          () => undefined,
        );
        continue;
      }
      const catchingUp = t + stepMs <= allowed;
      for (const item of simulation.step({ last: t === options.toMs })) {
        record(simulation, item);
        switch (item.type) {
          case 'reading': {
            readings++;
            const batch = batches.get(item.deviceId) ?? {
              siteId: item.siteId,
              topic: item.topic,
              readings: [],
            };
            batch.readings.push(item.reading);
            batches.set(item.deviceId, batch);
            if (!catchingUp || batch.readings.length >= scenario.batchSize) await flush(item.deviceId);
            break;
          }
          case 'event':
            await flush(item.deviceId);
            await publishers.publish(item.siteId, item.deviceId, item.topic, JSON.stringify(item.event));
            messages++;
            log('fault: meter replaced, event published', {
              device: item.deviceId,
              at: new Date(item.publishAtMs).toISOString(),
            });
            break;
          case 'malformed':
            await flush(item.deviceId);
            await publishers.publish(item.siteId, item.deviceId, item.topic, item.payload);
            messages++;
            log('fault: malformed payload published', {
              device: item.deviceId,
              at: new Date(item.publishAtMs).toISOString(),
            });
            break;
          case 'disconnect':
            await flush(item.deviceId);
            await publishers.dropConnection(item.deviceId);
            log('fault: device offline (connection dropped, will published)', {
              device: item.deviceId,
              at: new Date(item.publishAtMs).toISOString(),
              until: new Date(item.untilMs).toISOString(),
            });
            break;
          case 'wrong_credentials': {
            const refused = await publishers.tryWrongCredentials(item.siteId, item.deviceId);
            log('fault: connection with a wrong secret', {
              device: item.deviceId,
              refused,
              at: new Date(item.publishAtMs).toISOString(),
            });
            break;
          }
        }
      }
      if (!catchingUp) await flushAll();
      lastStepMs = t;
      if (Date.now() - lastProgress >= (options.progressEveryMs ?? 10_000)) {
        lastProgress = Date.now();
        // while backfilling: simulated minutes done of those up to now (or `toMs`), their rate and the time left
        const minutes = (ms: number): number => Math.floor((ms - options.fromMs) / 60_000);
        log('progress', {
          virtualTime: new Date(t).toISOString(),
          readings,
          messages,
          ...(caughtUp
            ? {}
            : progressFields(minutes(t), minutes(options.toMs ?? now()), Date.now() - wallStart)),
        });
      }
    }
    await flushAll();
    await publishers.drain();
  } finally {
    await publishers.close();
  }
  const truth = simulation.truth.build(lastStepMs);
  if (options.truthFile) writeTruth(options.truthFile, truth);
  log('finished', { readings, messages, lastStep: new Date(lastStepMs).toISOString() });
  return { fromMs: options.fromMs, lastStepMs, readings, messages, truth };
}

export function writeTruth(file: string, truth: object): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(truth, null, 1)}\n`);
}
