import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '@peakwatch/process';
import { StateStore } from '@peakwatch/state';
import { cpuSecondsOf, peakRssMbOf } from './proc';

const ROOT = join(__dirname, '../..');

/** An ingest process of a bench (the built `apps/ingest`), configured by the environment as deployed. */
export interface IngestProcess {
  child: ChildProcess;
  /** Its embedded broker (unused when MQTT_URL names an external one). */
  mqttUrl: string;
  mqttPort: number;
  /** A counter of ingest's /metrics (summed over its label sets when `labels` is not given). */
  metric(name: string, labels?: string): Promise<number>;
  cpuSeconds(): number;
  rssPeakMb(): number;
  stop(): Promise<void>;
}

/**
 * Starts the built ingest app as its own process with `env` (plus its ports, loopback hosts and one malloc arena,
 * as deployed) and waits for its health check. BENCH_PROFILE_DIR writes a V8 CPU profile of it there;
 * BENCH_LOG_LEVEL sets its log level (default warn). `log` receives where its memory was when it stops.
 */
export async function startIngest(
  env: NodeJS.ProcessEnv,
  log: (message: string) => void,
): Promise<IngestProcess> {
  const mqttPort = await freePort();
  const httpPort = await freePort();
  const profile = process.env['BENCH_PROFILE_DIR'];
  const child = spawn(
    process.execPath,
    [
      ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []),
      join(ROOT, 'dist/apps/ingest/src/main.js'),
    ],
    {
      cwd: ROOT,
      env: {
        ...env,
        // as deployed (Dockerfile, scripts/bootstrap.mjs): one malloc arena
        MALLOC_ARENA_MAX: process.env['MALLOC_ARENA_MAX'] ?? '1',
        MQTT_PORT: String(mqttPort),
        MQTT_HOST: '127.0.0.1',
        HTTP_PORT: String(httpPort),
        HTTP_HOST: '127.0.0.1',
        LOG_LEVEL: process.env['BENCH_LOG_LEVEL'] ?? 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let up = false;
  for (let i = 0; i < 600 && !up && child.exitCode === null; i++) {
    try {
      up = (await fetch(`http://127.0.0.1:${httpPort}/health`)).ok;
    } catch {
      // not up yet
    }
    if (!up) await sleep(100);
  }
  if (!up) {
    child.kill('SIGKILL');
    throw new Error('ingest did not come up (its log is above)');
  }
  const pid = child.pid!;
  const metrics = async (): Promise<string> => (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  return {
    child,
    mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
    mqttPort,
    metric: async (name, labels) => {
      const pattern = new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm');
      let total = 0;
      for (const [, set, value] of (await metrics()).matchAll(pattern))
        if (labels === undefined || (set ?? '').includes(labels)) total += Number(value);
      return total;
    },
    cpuSeconds: () => cpuSecondsOf(pid),
    rssPeakMb: () => peakRssMbOf(pid),
    stop: async () => {
      // Where the memory is, from the process's own metrics (a diagnostic on stderr, not part of the result).
      const text = await metrics();
      const mb = (name: string): number =>
        Math.round(Number(new RegExp(`^peakwatch_${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0) / 2 ** 20);
      log(
        `memory: rss ${mb('process_resident_memory_bytes')} MB, heap total ${mb('nodejs_heap_size_total_bytes')} MB, ` +
          `heap used ${mb('nodejs_heap_size_used_bytes')} MB, external ${mb('nodejs_external_memory_bytes')} MB`,
      );
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * Gives each device of `devices` (its id and site) the secret whose hash is `hash`, in the SQLite state store of an
 * ingest `dataDir` (set-up: one hash for all devices).
 */
export async function insertCredentials(
  dataDir: string,
  devices: readonly { device: string; site: string }[],
  hash: string,
): Promise<void> {
  const store = await StateStore.open({ kind: 'sqlite', file: join(dataDir, 'peakwatch.sqlite') });
  try {
    const now = new Date().toISOString();
    for (let i = 0; i < devices.length; i += 500)
      await store.db
        .insertInto('mqtt_credential')
        .values(
          devices.slice(i, i + 500).map(({ device, site }) => ({
            username: device,
            role: 'device',
            site_id: site,
            secret_hash: hash,
            created_at: now,
            rotated_at: now,
          })),
        )
        .execute();
  } finally {
    await store.close();
  }
}
