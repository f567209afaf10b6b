/**
 * `npm run bench:city`: what one machine carries at city scale. For each size N of BENCH_CITY_SITES (default
 * "1000,10000"): a generated registry of N offices with 5 meters each read every 15 minutes (grid and the four
 * sub-metering categories; written to a temporary directory, not committed), a day of history written straight to a
 * fresh influxd, then one scheduled KPI run (every site's recent windows, the calendar periods, districts and city)
 * and one alert evaluation of every rule, each timed (wall and CPU seconds of this process and of influxd), with
 * influxd's series count and resident memory after them. influxd runs as a city's must: the tsi1 index, no cap on series
 * per database. Reference, in the same run: the KPI run at the smallest N,
 * against which the larger ones are put as a ratio (linear growth keeps it near N / N₀). Prints one JSON object.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { INestApplication } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { ALERTS_APP, AlertEvaluator } from '@peakwatch/alerts';
import { ANALYTICS_APP, KpiCron } from '@peakwatch/analytics';
import { loadConfig } from '@peakwatch/config';
import { InfluxClient, ManagedInfluxd } from '@peakwatch/influx';
import { freePort } from '@peakwatch/process';
import { createApp } from '@peakwatch/runtime';
import { cpuSecondsOf, peakRssMbOf } from './proc';
import { LineBatches } from './write-lines';

const ROOT = join(__dirname, '../..');
const SIZES = (process.env['BENCH_CITY_SITES'] ?? '1000,10000').split(',').map(Number);
const DISTRICTS = 16;
const QUARTER = 900_000;
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
            `  - { id: ${id}-${role.replace('_', '-')}, kind: electricity_meter, role: ${role}, ratedPowerKw: ${kw * 3}, readingIntervalSeconds: 900 }`,
        ),
        '',
      ].join('\n'),
    );
  }
}

/** A day of registers of every meter up to `toMs`, posted in 10,000-line batches (set-up, not measured). */
async function writeReadings(url: string, sites: number, fromMs: number, toMs: number): Promise<number> {
  const lines = new LineBatches(url, DATABASE);
  for (let s = 0; s < sites; s++) {
    const site = siteId(s);
    for (const [role, scale] of METERS) {
      const prefix = `telemetry,device=${site}-${role.replace('_', '-')},district=d${s % DISTRICTS},kind=electricity_meter,role=${role},site=${site}`;
      let register = 1000 + s;
      for (let t = fromMs; t <= toMs; t += QUARTER) {
        const hour = ((t + 8 * 3_600_000) % DAY) / 3_600_000;
        const kw = scale * (0.4 + 0.6 * Math.max(0, Math.sin(((hour - 6) / 12) * Math.PI)));
        register += kw / 4;
        await lines.add(`${prefix} energy_import_kwh=${register.toFixed(3)},power_kw=${kw.toFixed(2)} ${t}`);
      }
    }
  }
  return lines.close();
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

async function measure(sites: number): Promise<Record<string, unknown>> {
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
    const config = loadConfig({
      INFLUX_URL: influxd.url,
      INFLUX_DATABASE: DATABASE,
      DATA_DIR: join(work, 'data'),
      SEEDS_DIR: seeds,
      HTTP_PORT: String(await freePort()),
      HTTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
    });
    app = await createApp(config, [ANALYTICS_APP, ALERTS_APP]);
    // the bench runs each job once itself
    const schedules = app.get(SchedulerRegistry);
    for (const job of schedules.getCronJobs().values()) void job.stop();
    for (const name of schedules.getIntervals()) schedules.deleteInterval(name);

    log(`${sites} sites: one scheduled KPI run`);
    const kpiRun = await timed(influxd.process.pid, () => app!.get(KpiCron).runOnce(nowMs + 2 * 60_000));
    log(`${sites} sites: one alert evaluation of every rule`);
    const alertRun = await timed(influxd.process.pid, () =>
      app!.get(AlertEvaluator).runOnce(nowMs + 3 * 60_000),
    );
    // exact, per measurement (telemetry, kpi, ...): summed
    const cardinality = await influx.query('SHOW SERIES EXACT CARDINALITY');
    return {
      sites,
      meters: sites * METERS.length,
      readings,
      kpiRun,
      alertRun,
      influxSeries: cardinality.reduce((n, m) => n + Number(m.rows[0]?.['count'] ?? 0), 0),
      influxRssMb: peakRssMbOf(influxd.process.pid),
    };
  } finally {
    await app?.close();
    await influxd.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const runs: Record<string, Record<string, unknown>> = {};
  for (const sites of SIZES) runs[String(sites)] = await measure(sites);
  const byN = (pick: (run: Record<string, unknown>) => unknown) =>
    Object.fromEntries(Object.entries(runs).map(([n, run]) => [n, pick(run)]));
  const kpiWall = byN((r) => (r['kpiRun'] as Record<string, number>)['wallS']) as Record<string, number>;
  const [smallest, ...larger] = SIZES;
  process.stdout.write(
    `${JSON.stringify({
      kpiRunWallS: kpiWall,
      alertRunWallS: byN((r) => (r['alertRun'] as Record<string, number>)['wallS']),
      influxSeries: byN((r) => r['influxSeries']),
      influxRssMb: byN((r) => r['influxRssMb']),
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
