/**
 * `npm run bench:city`: what one machine carries at city scale. For each size N of BENCH_CITY_SITES (default
 * "1000,10000"): a generated registry of N offices with 5 meters each read every 15 minutes (grid and the four
 * sub-metering categories; written to a temporary directory, not committed), a day of history written straight to a
 * fresh influxd (left to compact it before anything is timed), then
 *   - one scheduled KPI run (every site's recent windows, the calendar periods, districts and city) by one process,
 *     and the same run by two replicas on one PostgreSQL (forked processes sharing its leased site shares);
 *   - one alert evaluation of every rule;
 *   - a reconnect storm against an ingest process (the built `apps/ingest`, its embedded broker): the first
 *     min(5N, BENCH_STORM_DEVICES) meters (default MQTT_MAX_CONNECTIONS's, 20,000, or fewer where the open-files
 *     limit, which both this process and ingest need above the device count, is lower) connect within a minute, each
 *     sending the hour it buffered while offline (4 readings, one QoS 1 message each), retrying when refused, as
 *     devices do; timed until every reading is stored (none may be lost), with ingest's peak memory;
 *   - ingest throughput at that cardinality: the connected meters then publish fresh readings for BENCH_SECONDS
 *     (default 10), one unacknowledged message each, timed until stored;
 * each timed (wall and CPU seconds of the processes and of influxd), with influxd's series count and resident memory.
 * influxd runs as a city's must: the tsi1 index, no cap on series per database. Reference, in the same run: the KPI
 * run at the smallest N, against which the larger ones are put as a ratio (linear growth keeps it near N / N₀).
 * Prints one JSON object.
 */
import { fork, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { INestApplication } from '@nestjs/common';
import { ALERTS_APP, AlertEvaluator } from '@peakwatch/alerts';
import { ANALYTICS_APP, KpiCron } from '@peakwatch/analytics';
import { loadConfig } from '@peakwatch/config';
import { deviceTopic } from '@peakwatch/contracts';
import { InfluxClient, ManagedInfluxd } from '@peakwatch/influx';
import { freePort } from '@peakwatch/process';
import { ManagedPostgres, StateStore, hashSecret, newSecret } from '@peakwatch/state';
import mqtt, { type MqttClient } from 'mqtt';
import { benchApp } from './bench-app';
import { insertCredentials, startIngest } from './ingest-process';
import { cpuSecondsOf, peakRssMbOf } from './proc';
import { LineBatches } from './write-lines';

const ROOT = join(__dirname, '../..');
const SIZES = (process.env['BENCH_CITY_SITES'] ?? '1000,10000').split(',').map(Number);
/** Devices of the reconnect storm: as many as the embedded broker accepts at once by default. */
const STORM_DEVICES = Number(
  process.env['BENCH_STORM_DEVICES'] ?? loadConfig({ INFLUX_URL: 'http://127.0.0.1:1' }).mqtt.maxConnections,
);
/** Files a process holds besides the devices' connections (its modules, influxd's and its own sockets, logs). */
const OWN_FILES = 512;
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const DISTRICTS = 16;
const QUARTER = 900_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const DATABASE = 'city';
const METERS = [
  ['grid', 400],
  ['hvac', 150],
  ['lighting_sockets', 100],
  ['power', 80],
  ['special', 40],
] as const;
const log = (message: string): boolean => process.stderr.write(`[bench:city] ${message}\n`);
const round = (x: number): number => Math.round(x * 100) / 100;

const siteId = (s: number): string => `c${String(s).padStart(5, '0')}`;
const meterId = (s: number, role: string): string => `${siteId(s)}-${role.replace('_', '-')}`;

/** The registry of `sites` offices, one file per site as an operator keeps them, with the seeds' policy and rules. */
function writeSeeds(seeds: string, sites: number): void {
  mkdirSync(join(seeds, 'sites'), { recursive: true });
  for (const data of ['policy', 'emission-factors', 'alert-rules'])
    cpSync(join(ROOT, 'seeds', data), join(seeds, data), { recursive: true });
  for (let s = 0; s < sites; s++) {
    const id = siteId(s);
    writeFileSync(
      join(seeds, 'sites', `${id}.yaml`),
      [
        `id: ${id}`,
        `name: City site ${s}`,
        `district: d${s % DISTRICTS}`,
        'type: office',
        `floorAreaM2: ${5_000 + 10 * s}`,
        "commissionedOn: '2015-01-01'",
        'devices:',
        ...METERS.map(
          ([role, kw]) =>
            `  - { id: ${meterId(s, role)}, kind: electricity_meter, role: ${role}, ratedPowerKw: ${kw * 3}, readingIntervalSeconds: 900 }`,
        ),
        '',
      ].join('\n'),
    );
  }
}

/** A meter's quarter-hour readings from `fromMs` to `toMs`: an office's day curve, its register from 1000 + s. */
function* meterReadings(
  s: number,
  scale: number,
  fromMs: number,
  toMs: number,
): Generator<{ t: number; register: number; kw: number }> {
  let register = 1000 + s;
  for (let t = fromMs; t <= toMs; t += QUARTER) {
    const hour = ((t + 8 * HOUR) % DAY) / HOUR;
    const kw = scale * (0.4 + 0.6 * Math.max(0, Math.sin(((hour - 6) / 12) * Math.PI)));
    register += kw / 4;
    yield { t, register, kw };
  }
}

/** A day of registers of every meter up to `toMs`, posted in 10,000-line batches (set-up, not measured). */
async function writeReadings(url: string, sites: number, fromMs: number, toMs: number): Promise<number> {
  const lines = new LineBatches(
    url,
    DATABASE,
    `bench:city ${sites} sites history`,
    sites * METERS.length * (Math.floor((toMs - fromMs) / QUARTER) + 1),
  );
  for (let s = 0; s < sites; s++) {
    const site = siteId(s);
    for (const [role, scale] of METERS) {
      const prefix = `telemetry,device=${meterId(s, role)},district=d${s % DISTRICTS},kind=electricity_meter,role=${role},site=${site}`;
      for (const { t, register, kw } of meterReadings(s, scale, fromMs, toMs))
        await lines.add(`${prefix} energy_import_kwh=${register.toFixed(3)},power_kw=${kw.toFixed(2)} ${t}`);
    }
  }
  return lines.close();
}

/**
 * Waits until influxd is idle (under 5 % of a core over 2 s, at most 10 minutes): it compacts a bulk load of history
 * for a while after the load, and a city's KPI run meets an influxd that takes a trickle of readings, not that.
 * Returns the seconds waited.
 */
async function settled(influxdPid: number): Promise<number> {
  const started = performance.now();
  for (let cpu = cpuSecondsOf(influxdPid); performance.now() - started < 600_000;) {
    await sleep(2000);
    const now = cpuSecondsOf(influxdPid);
    if (now - cpu < 0.1) break;
    cpu = now;
  }
  return round((performance.now() - started) / 1000);
}

/** Wall and CPU seconds (this process, influxd) of one call. */
async function timed(influxdPid: number, run: () => Promise<unknown>): Promise<Record<string, number>> {
  const cpu = { peakwatch: cpuSecondsOf('self'), influxd: cpuSecondsOf(influxdPid) };
  const started = performance.now();
  await run();
  return {
    wallS: round((performance.now() - started) / 1000),
    peakwatchCpuS: round(cpuSecondsOf('self') - cpu.peakwatch),
    influxdCpuS: round(cpuSecondsOf(influxdPid) - cpu.influxd),
  };
}

/**
 * The scheduled KPI run at `runAtMs` by two replicas (forked `city-replica.js`) on a fresh PostgreSQL database, both
 * started together: wall seconds until both are done, each one's CPU seconds and the shares it did (from `job_lease`).
 */
async function twoReplicaRun(
  postgres: ManagedPostgres,
  env: Record<string, string>,
  dataDir: string,
  runAtMs: number,
  influxdPid: number,
): Promise<Record<string, unknown>> {
  const databaseUrl = await postgres.database();
  const replicas = await Promise.all(
    [0, 1].map(async (i) => {
      const child = fork(join(__dirname, 'city-replica.js'), [], {
        env: {
          ...env,
          PATH: process.env['PATH'],
          DATABASE_URL: databaseUrl,
          DATA_DIR: join(dataDir, `replica-${i}`),
          HTTP_PORT: String(await freePort()),
          BENCH_CLOCK_MS: String(runAtMs),
        },
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      });
      await new Promise<void>((resolve, reject) => {
        child.once('message', () => resolve());
        child.once('exit', (code) => reject(new Error(`replica ${i} exited (${code}) before it was ready`)));
      });
      return child;
    }),
  );
  const store = await StateStore.open({ kind: 'postgres', url: databaseUrl });
  try {
    const influxdCpu0 = cpuSecondsOf(influxdPid);
    const started = performance.now();
    let failed: string | undefined;
    const answers = replicas.map(
      (child) =>
        new Promise<{ cpuS?: number; error?: string }>((resolve) => {
          child.once('message', (answer: { cpuS?: number; error?: string }) => {
            failed ??= answer.error;
            resolve(answer);
          });
          child.send({ runAtMs });
        }),
    );
    // the run is done when its last part, the rest, is: a replica with no part left to claim waits for the others'
    // by polling their leases, and may answer a little later
    const restDone = () =>
      store.db
        .selectFrom('job_lease')
        .select('done_at')
        .where('job', '=', 'kpi')
        .where('part', '=', 'rest')
        .where('done_at', 'is not', null)
        .executeTakeFirst();
    while (!failed && !(await restDone())) await sleep(100);
    if (failed) throw new Error(`a replica's KPI run failed: ${failed}`);
    const wallS = round((performance.now() - started) / 1000);
    const influxdCpuS = round(cpuSecondsOf(influxdPid) - influxdCpu0);
    const done = await Promise.all(answers);
    const parts = await store.db
      .selectFrom('job_lease')
      .select(['part', 'holder', 'done_at'])
      .where('job', '=', 'kpi')
      .execute();
    if (parts.some((p) => p.done_at === null)) throw new Error('the two-replica run left a part undone');
    const holders = [...new Set(parts.map((p) => p.holder))];
    return {
      wallS,
      influxdCpuS,
      replicaCpuS: done.map((a) => round(a.cpuS!)),
      // the site shares each replica did (and which did the rest)
      sharesByReplica: holders.map((h) => parts.filter((p) => p.holder === h && p.part !== 'rest').length),
    };
  } finally {
    await store.close();
    for (const child of replicas) {
      child.disconnect();
      await new Promise((resolve) => child.once('exit', resolve));
    }
  }
}

/** Open files a process may have (its soft limit), from /proc. */
function openFilesLimit(): number {
  return Number(/^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? 1024);
}

/**
 * The storm's devices: STORM_DEVICES, or fewer when the open-files limit of this process (which holds the devices'
 * connections) and of ingest (which holds the broker's side) is lower; it is raised first where that is allowed.
 */
function stormDeviceCap(): number {
  const needed = STORM_DEVICES + OWN_FILES;
  if (openFilesLimit() < needed)
    spawnSync('prlimit', ['--pid', String(process.pid), `--nofile=${needed}:${needed}`], {
      encoding: 'utf8',
    });
  const cap = Math.min(STORM_DEVICES, openFilesLimit() - OWN_FILES);
  if (cap < STORM_DEVICES)
    log(
      `the open-files limit (${openFilesLimit()}, which this user cannot raise) holds the storm to ${cap} devices`,
    );
  return cap;
}

/**
 * The reconnect storm and the throughput at this cardinality, against an ingest process on the `city` database:
 * `devices` meters (of sites 0, 1, ...) connect spread over a minute, each publishing the 4 readings of the hour before
 * `nowMs` it buffered (their values as written in the history, now with their `seq`); then the connected meters
 * publish fresh readings for SECONDS.
 */
async function stormAndThroughput(
  work: string,
  seeds: string,
  influxd: ManagedInfluxd,
  influx: InfluxClient,
  devices: number,
  nowMs: number,
): Promise<Record<string, unknown>> {
  const meters = Array.from({ length: devices }, (_, i) => {
    const s = Math.floor(i / METERS.length);
    const [role, scale] = METERS[i % METERS.length]!;
    return { s, site: siteId(s), device: meterId(s, role), scale };
  });
  const dataDir = join(work, 'ingest');
  const secret = newSecret();
  await insertCredentials(dataDir, meters, await hashSecret(secret));
  const ingest = await startIngest(
    {
      PATH: process.env['PATH'],
      INFLUX_URL: influxd.url,
      INFLUX_DATABASE: DATABASE,
      DATA_DIR: dataDir,
      SEEDS_DIR: seeds,
    },
    log,
  );
  const stored = async (): Promise<number> => {
    const [series] = await influx.query(`SELECT count(seq) FROM telemetry WHERE time >= ${nowMs - HOUR}ms`);
    return Number(series?.rows[0]?.['count'] ?? 0);
  };
  const storedBy = async (expected: number, timeoutMs: number): Promise<number> => {
    for (const until = Date.now() + timeoutMs; Date.now() < until; await sleep(500))
      if ((await stored()) >= expected) return performance.now();
    throw new Error(`InfluxDB never held ${expected} readings (has ${await stored()}): readings lost`);
  };
  const clients: MqttClient[] = [];
  const lastRegister: number[] = [];
  try {
    log(`storm: ${devices} devices connect within a minute, each with its buffered hour`);
    const cpu0 = { ingest: ingest.cpuSeconds(), influxd: cpuSecondsOf(influxd.process.pid) };
    const started = performance.now();
    let acked = 0;
    for (let i = 0; i < devices; i++) {
      const { s, site, device, scale } = meters[i]!;
      await sleep(started + (i * 60_000) / devices - performance.now());
      const client = mqtt.connect(ingest.mqttUrl, {
        clientId: `storm-${device}`,
        username: device,
        password: secret,
        // a device retries a refused or lost connection, after a second or two
        reconnectPeriod: 1000 + Math.floor(Math.random() * 1000),
        reconnectOnConnackError: true,
        connectTimeout: 60_000,
      });
      client.on('error', () => undefined); // refusals while ingest is busy: the client retries
      clients.push(client);
      const hour = [...meterReadings(s, scale, nowMs - DAY, nowMs)].slice(-4);
      lastRegister[i] = hour.at(-1)!.register;
      // published before the connection is up: the client holds them until it is, as a device's buffer does
      hour.forEach(({ t, register, kw }, seq) =>
        client.publish(
          deviceTopic(site, device, 'telemetry'),
          JSON.stringify({
            ts: t,
            seq,
            values: { energy_import_kwh: Number(register.toFixed(3)), power_kw: Number(kw.toFixed(2)) },
          }),
          { qos: 1 },
          (error) => {
            if (!error) acked++;
          },
        ),
      );
    }
    const storm = devices * 4;
    const drained = await storedBy(storm, 1_800_000);
    const refused = await ingest.metric('peakwatch_mqtt_connections_refused_total');
    const stormResult = {
      devices,
      readings: storm,
      acknowledged: acked,
      stormDrainS: round((drained - started) / 1000),
      stormRssMb: ingest.rssPeakMb(),
      connectionsRefused: refused,
      ingestCpuS: round(ingest.cpuSeconds() - cpu0.ingest),
      influxdCpuS: round(cpuSecondsOf(influxd.process.pid) - cpu0.influxd),
    };
    log(`storm: drained in ${stormResult.stormDrainS} s; throughput of ${devices} devices for ${SECONDS} s`);

    // each connected meter publishes its next readings, one unacknowledged at a time, a second apart in its time
    const tsBase = Math.max(nowMs, Date.now() - 10 * 60_000);
    const end = performance.now() + SECONDS * 1000;
    const throughputStart = performance.now();
    let sent = 0;
    let ackedFresh = 0;
    await Promise.all(
      clients.map(async (client, i) => {
        const { site, device } = meters[i]!;
        for (let seq = 4; performance.now() < end; seq++) {
          sent++;
          await client.publishAsync(
            deviceTopic(site, device, 'telemetry'),
            JSON.stringify({
              ts: tsBase + seq * 1000,
              seq,
              values: { energy_import_kwh: lastRegister[i]! + seq / 1000, power_kw: 1 },
            }),
            { qos: 1 },
          );
          ackedFresh++;
        }
      }),
    );
    const done = await storedBy(storm + ackedFresh, 600_000);
    return {
      storm: stormResult,
      throughput: {
        devices,
        sent,
        acknowledged: ackedFresh,
        ingestReadingsPerSec: Math.round(ackedFresh / ((done - throughputStart) / 1000)),
      },
    };
  } finally {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await ingest.stop();
  }
}

async function measure(
  sites: number,
  postgres: ManagedPostgres,
  stormDevices: number,
): Promise<Record<string, unknown>> {
  const work = mkdtempSync(join(tmpdir(), 'peakwatch-bench-city-'));
  const influxd = await ManagedInfluxd.start({
    dataDir: join(work, 'influxdb'),
    httpPort: await freePort(),
    rpcPort: await freePort(),
    cityScale: true,
  });
  let app: INestApplication | undefined;
  try {
    const seeds = join(work, 'seeds');
    writeSeeds(seeds, sites);
    const influx = new InfluxClient({ url: influxd.url, database: DATABASE });
    await influx.ensureDatabase();
    const nowMs = Math.floor(Date.now() / QUARTER) * QUARTER;
    log(`${sites} sites: writing a day of 15-minute readings of ${sites * METERS.length} meters`);
    const readings = await writeReadings(influxd.url, sites, nowMs - DAY, nowMs);
    const settleS = await settled(influxd.process.pid);
    log(`${sites} sites: influxd compacted the history in ${settleS} s`);
    const env = {
      INFLUX_URL: influxd.url,
      INFLUX_DATABASE: DATABASE,
      SEEDS_DIR: seeds,
      HTTP_HOST: '127.0.0.1',
      // the apps' log (BENCH_LOG_LEVEL=info shows where a KPI run spends its time)
      LOG_LEVEL: process.env['BENCH_LOG_LEVEL'] ?? 'silent',
    };
    const config = loadConfig({ ...env, DATA_DIR: join(work, 'data'), HTTP_PORT: String(await freePort()) });
    app = await benchApp(config, [ANALYTICS_APP, ALERTS_APP]);

    log(`${sites} sites: one scheduled KPI run`);
    const kpiRun = await timed(influxd.process.pid, () => app!.get(KpiCron).runOnce(nowMs + 2 * 60_000));
    log(`${sites} sites: one alert evaluation of every rule`);
    const alertRun = await timed(influxd.process.pid, () =>
      app!.get(AlertEvaluator).runOnce(nowMs + 3 * 60_000),
    );
    await app.close();
    app = undefined;
    await settled(influxd.process.pid);
    log(`${sites} sites: the same KPI run by two replicas on PostgreSQL`);
    const kpiRunTwoReplicas = await twoReplicaRun(
      postgres,
      env,
      work,
      nowMs + 2 * 60_000,
      influxd.process.pid,
    );
    // exact, per measurement (telemetry, kpi, ...): summed
    const cardinality = await influx.query('SHOW SERIES EXACT CARDINALITY');
    const influxSeries = cardinality.reduce((n, m) => n + Number(m.rows[0]?.['count'] ?? 0), 0);
    // BENCH_STORM_DEVICES=0: the KPI and alert runs alone
    const ingest =
      stormDevices > 0
        ? await stormAndThroughput(
            work,
            seeds,
            influxd,
            influx,
            Math.min(sites * METERS.length, stormDevices),
            nowMs,
          )
        : {};
    return {
      sites,
      meters: sites * METERS.length,
      readings,
      settleS,
      kpiRun,
      kpiRunTwoReplicas,
      alertRun,
      ...ingest,
      influxSeries,
      influxRssMb: peakRssMbOf(influxd.process.pid),
    };
  } finally {
    await app?.close();
    await influxd.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const stormDevices = stormDeviceCap();
  const postgres = await ManagedPostgres.start();
  const runs: Record<string, Record<string, unknown>> = {};
  try {
    for (const sites of SIZES) runs[String(sites)] = await measure(sites, postgres, stormDevices);
  } finally {
    await postgres.stop();
  }
  const byN = (pick: (run: Record<string, unknown>) => unknown) =>
    Object.fromEntries(Object.entries(runs).map(([n, run]) => [n, pick(run)]));
  const field = (part: string, name: string) =>
    byN((r) => (r[part] as Record<string, unknown> | undefined)?.[name]);
  const kpiWall = field('kpiRun', 'wallS') as Record<string, number>;
  const [smallest, ...larger] = SIZES;
  process.stdout.write(
    `${JSON.stringify({
      kpiRunWallS: kpiWall,
      kpiRunTwoReplicasWallS: field('kpiRunTwoReplicas', 'wallS'),
      alertRunWallS: field('alertRun', 'wallS'),
      influxSeries: byN((r) => r['influxSeries']),
      influxRssMb: byN((r) => r['influxRssMb']),
      ingestReadingsPerSec: field('throughput', 'ingestReadingsPerSec'),
      stormDevices: field('storm', 'devices'),
      stormDrainS: field('storm', 'stormDrainS'),
      stormRssMb: field('storm', 'stormRssMb'),
      // against the smallest size in the same run: linear growth gives N / N₀
      kpiRunRatio: Object.fromEntries(
        larger.map((n) => [`${n}/${smallest}`, round(kpiWall[String(n)]! / kpiWall[String(smallest)]!)]),
      ),
      runs,
      rssMbPeak: peakRssMbOf('self'),
    })}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error instanceof Error ? error.stack : error)}\n`);
  process.exit(1);
});
