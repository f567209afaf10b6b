import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { loadConfig, type AppConfig } from '@peakwatch/config';
import { METRICS, deviceTopic } from '@peakwatch/contracts';
import { runScenario, type RunOptions } from '@peakwatch/device-sim';
import { INGEST_APP } from '@peakwatch/ingest';
import { CredentialsRepository } from '@peakwatch/state';
import type { InfluxClient } from '@peakwatch/influx';
import { freePort, onFreePorts } from '@peakwatch/process';
import { Registry } from '@peakwatch/registry';
import { Clock, createApp } from '@peakwatch/runtime';
import type { TestInfluxd } from './influxd';
import { connectClient } from './mqtt';
import { testDatabaseUrl } from './postgres';
import { eventually } from './processes';

/**
 * A configuration on free loopback ports, quiet logs, the given InfluxDB database and DATA_DIR, and the state store of
 * the run (SQLite in DATA_DIR, or a fresh PostgreSQL database: `testDatabaseUrl`).
 */
export async function testConfig(
  influxUrl: string,
  database: string,
  dataDir: string,
  env: NodeJS.ProcessEnv = {},
): Promise<AppConfig> {
  const databaseUrl = env['DATABASE_URL'] ?? (await testDatabaseUrl());
  return loadConfig({
    INFLUX_URL: influxUrl,
    INFLUX_DATABASE: database,
    HTTP_PORT: String(await freePort()),
    HTTP_HOST: '127.0.0.1',
    MQTT_PORT: String(await freePort()),
    MQTT_HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    ...env,
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  });
}

/** Issues a secret for every registered device of the app's registry (or the given ones), by device id. */
export async function issueDeviceSecrets(
  app: INestApplication,
  deviceIds?: readonly string[],
): Promise<Record<string, string>> {
  const registry = app.get(Registry);
  const credentials = app.get(CredentialsRepository);
  const out: Record<string, string> = {};
  for (const id of deviceIds ?? registry.devices().map((d) => d.device.id))
    out[id] = await credentials.issue(id, 'device', registry.device(id)!.site.id);
  return out;
}

export interface TestIngest {
  app: INestApplication;
  config: AppConfig;
  mqttUrl: string;
  /** Issues secrets for every registered device (or the given ones). */
  secrets(deviceIds?: string[]): Promise<Record<string, string>>;
  metric(name: string, labels?: string): Promise<number>;
  close(): Promise<void>;
}

/**
 * Ingest alone, in this process, on free ports with a temporary DATA_DIR, writing to `database` of `influxd`; on the
 * system clock unless the test simulates a period of its own.
 */
export async function startIngest(
  influxd: TestInfluxd,
  database: string,
  env: NodeJS.ProcessEnv = {},
  clock: Clock = Clock.system(),
): Promise<TestIngest> {
  const dataDir = env['DATA_DIR'] ?? (await mkdtemp(join(tmpdir(), 'peakwatch-ingest-')));
  // ports found free may be taken before the listeners bind them: then other ones (testConfig picks anew)
  const { config, app } = await onFreePorts(async () => {
    const config = await testConfig(influxd.url, database, dataDir, env);
    return { config, app: await createApp(config, [INGEST_APP], { clock }) };
  });
  return {
    app,
    config,
    mqttUrl: `mqtt://127.0.0.1:${config.mqtt.port}`,
    secrets: (deviceIds) => issueDeviceSecrets(app, deviceIds),
    metric: (name, labels) => metricOf(config.http.port, name, labels),
    async close() {
      await app.close();
      if (!env['DATA_DIR']) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A number from a single-value InfluxQL answer (0 when there is no series). */
export async function scalar(client: InfluxClient, influxql: string): Promise<number> {
  const [series] = await client.query(influxql);
  const row = series?.rows[0];
  if (!row) return 0;
  const value = Object.entries(row).find(([k]) => k !== 'time')?.[1];
  return typeof value === 'number' ? value : 0;
}

/** Waits until `count` stops being below `expected` (or the limit passes) and returns the last count. */
export async function waitForCount(
  count: () => Promise<number>,
  expected: number,
  limitMs = 60_000,
): Promise<number> {
  let last = 0;
  await eventually(async () => (last = await count()) >= expected, limitMs);
  return last;
}

export { stopSchedules } from '@peakwatch/runtime';

/** A metric of the process serving HTTP on `httpPort` (0 when a labelled counter has not counted yet). */
export async function metricOf(httpPort: number, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const match = new RegExp(`^${name}${labels ? `\\{${labels}\\}` : ''} (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}

/**
 * Waits until the ingest spool of the process on `httpPort` is empty (every acknowledged reading is in InfluxDB);
 * false when it does not empty in time.
 */
export async function spoolDrained(httpPort: number): Promise<boolean> {
  return (
    (await waitForCount(
      async () => ((await metricOf(httpPort, 'peakwatch_ingest_spool_records')) === 0 ? 1 : 0),
      1,
    )) === 1
  );
}

/**
 * Publishes a scenario's readings of [fromMs, toMs] through the broker at `brokerUrl` as fast as QoS 1
 * acknowledgements allow, then waits until ingest (HTTP on `httpPort`) has drained its spool into InfluxDB. Returns
 * the simulator's ground truth.
 */
export async function backfill({
  httpPort,
  clock = Clock.system(),
  ...run
}: Pick<RunOptions, 'scenario' | 'seed' | 'fromMs' | 'toMs' | 'brokerUrl' | 'credentials'> & {
  httpPort: number;
  /** The clock ingest runs on: the simulator publishes nothing later than its present. */
  clock?: Clock;
}): Promise<unknown> {
  const summary = await runScenario({
    ...run,
    now: () => clock.now(),
    speed: Number.POSITIVE_INFINITY,
    qos: 1,
    log: () => undefined,
  });
  if (!(await spoolDrained(httpPort))) throw new Error('the ingest spool did not drain after the backfill');
  return summary.truth;
}

/**
 * Sends telemetry rows read back from InfluxDB again, late, through the broker as one QoS 1 batch from the device
 * itself.
 */
export async function publishLate(
  mqttUrl: string,
  { siteId, deviceId, secret }: { siteId: string; deviceId: string; secret: string },
  rows: readonly Record<string, unknown>[],
): Promise<void> {
  const device = await connectClient(mqttUrl, { username: deviceId, password: secret });
  await device.publishAsync(deviceTopic(siteId, deviceId, 'telemetry'), JSON.stringify(readingsOf(rows)), {
    qos: 1,
  });
  await device.endAsync();
}

/** Telemetry rows read back from InfluxDB as the readings of a device's message. */
function readingsOf(rows: readonly Record<string, unknown>[]): object[] {
  return rows.map((row) => ({
    ts: row['time'] as number,
    ...(typeof row['seq'] === 'number' ? { seq: row['seq'] } : {}),
    values: Object.fromEntries(
      Object.keys(METRICS)
        .filter((m) => typeof row[m] === 'number')
        .map((m) => [m, row[m] as number]),
    ),
  }));
}
