/**
 * `npm run bench:analytics`: the time to compute every KPI window (15m, 1h, 1d, months, year, rolling 12 months, and
 * the district and city roll-ups) for one year of 15-minute register readings of many sites, and how the work splits
 * between InfluxDB and PeakWatch's own code (CPU seconds of each process). Reference, in the same run against the
 * same influxd: one bulk InfluxQL aggregation of the same data (15-minute first/last per device over the year).
 * Prints one JSON object. BENCH_SITES (default 100) and BENCH_DAYS (default 365) size the data.
 */
import { mkdtempSync, rmSync, cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { WriteApi } from '@influxdata/influxdb-client';
import { CALENDAR_PERIODS, writeAreaKpis, writeCalendarKpis, writeKpiSeries } from '@peakwatch/analytics';
import {
  FIXED_PERIOD_MS,
  type FixedPeriod,
  utcOffsetMs,
  windowsOf,
  kpiFactorsFor,
} from '@peakwatch/metering';
import { InfluxClient, ManagedInfluxd, type InfluxSeries } from '@peakwatch/influx';
import { loadPolicyData } from '@peakwatch/policy';
import { freePort } from '@peakwatch/process';
import { loadRegistry } from '@peakwatch/registry';
import { cpuSecondsOf, peakRssMbOf } from './proc';
import { LineBatches } from './write-lines';

const ROOT = join(__dirname, '../..');
const SITES = Number(process.env['BENCH_SITES'] ?? 100);
const DAYS = Number(process.env['BENCH_DAYS'] ?? 365);
const DISTRICTS = 5;
const QUARTER = 900_000;
const DAY = 86_400_000;
const DATABASE = 'bench';
const log = (message: string): boolean => process.stderr.write(`[bench:analytics] ${message}\n`);

/**
 * Wall time during which at least one InfluxDB call is in flight (the time PeakWatch waits on InfluxDB), and the
 * summed durations of queries and of writes.
 */
class TimedInflux extends InfluxClient {
  waitingMs = 0;
  queryMs = 0;
  writeMs = 0;
  private inFlight = 0;
  private since = 0;

  async timed<T>(kind: 'queryMs' | 'writeMs', call: () => Promise<T>): Promise<T> {
    const t = performance.now();
    if (this.inFlight++ === 0) this.since = t;
    try {
      return await call();
    } finally {
      this[kind] += performance.now() - t;
      if (--this.inFlight === 0) this.waitingMs += performance.now() - this.since;
    }
  }

  override query(influxql: string): Promise<InfluxSeries[]> {
    return this.timed('queryMs', () => super.query(influxql));
  }

  override createWriteApi(options: Parameters<InfluxClient['createWriteApi']>[0]): WriteApi {
    const api = super.createWriteApi(options);
    const flush = api.flush.bind(api);
    const close = api.close.bind(api);
    api.flush = (withRetryBuffer?: boolean) => this.timed('writeMs', () => flush(withRetryBuffer));
    api.close = () => this.timed('writeMs', close);
    return api;
  }
}

/** The registry: SITES offices in DISTRICTS districts, each with a grid meter and an HVAC sub-meter read every 15 min. */
function writeSeeds(seeds: string): void {
  mkdirSync(join(seeds, 'sites'), { recursive: true });
  for (const data of ['policy', 'emission-factors'])
    cpSync(join(ROOT, 'seeds', data), join(seeds, data), { recursive: true });
  for (let s = 0; s < SITES; s++) {
    const id = `bench-s${String(s).padStart(3, '0')}`;
    writeFileSync(
      join(seeds, 'sites', `${id}.yaml`),
      [
        `id: ${id}`,
        `name: Bench site ${s}`,
        `district: bench-d${s % DISTRICTS}`,
        'type: office',
        `floorAreaM2: ${10_000 + 100 * s}`,
        "commissionedOn: '2015-01-01'",
        'devices:',
        `  - { id: ${id}-grid, kind: electricity_meter, role: grid, ratedPowerKw: 2000, readingIntervalSeconds: 900 }`,
        `  - { id: ${id}-hvac, kind: electricity_meter, role: hvac, ratedPowerKw: 1000, readingIntervalSeconds: 900 }`,
        '',
      ].join('\n'),
    );
  }
}

/** One year of registers, device by device, posted in 10,000-line batches (set-up, not measured). */
async function writeReadings(url: string, fromMs: number, toMs: number): Promise<number> {
  const lines = new LineBatches(
    url,
    DATABASE,
    'bench:analytics history',
    SITES * 2 * (Math.floor((toMs - fromMs) / QUARTER) + 1),
  );
  for (let s = 0; s < SITES; s++) {
    const site = `bench-s${String(s).padStart(3, '0')}`;
    for (const [role, scale] of [
      ['grid', 400],
      ['hvac', 150],
    ] as const) {
      const prefix = `telemetry,device=${site}-${role},district=bench-d${s % DISTRICTS},kind=electricity_meter,role=${role},site=${site}`;
      let register = 1000 * s;
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

/** The reference: influxd's own 15-minute first/last per device over the year, the whole answer read. */
async function bulkAggregation(
  url: string,
  fromMs: number,
  toMs: number,
): Promise<{ seconds: number; bytes: number }> {
  const q = `SELECT first("energy_import_kwh"), last("energy_import_kwh") FROM "telemetry" WHERE time >= ${fromMs}ms AND time < ${toMs}ms GROUP BY time(15m), "device"`;
  const started = performance.now();
  // uncompressed, as PeakWatch's own queries
  const response = await fetch(`${url}/query?db=${DATABASE}&epoch=ms&q=${encodeURIComponent(q)}`, {
    headers: { 'accept-encoding': 'identity' },
  });
  let bytes = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) bytes += chunk.length;
  if (!response.ok) throw new Error(`bulk aggregation failed: ${response.status}`);
  return { seconds: (performance.now() - started) / 1000, bytes };
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'peakwatch-bench-analytics-'));
  const influxd = await ManagedInfluxd.start({
    dataDir: join(work, 'influxdb'),
    httpPort: await freePort(),
    rpcPort: await freePort(),
  });
  try {
    const seeds = join(work, 'seeds');
    writeSeeds(seeds);
    const registry = loadRegistry(join(seeds, 'sites'));
    const policy = loadPolicyData(seeds);
    const offset = utcOffsetMs('Asia/Shanghai', Date.now());
    const toMs = Math.floor((Date.now() + offset) / DAY) * DAY - offset;
    const fromMs = toMs - DAYS * DAY;
    const influx = new TimedInflux({ url: influxd.url, database: DATABASE });
    await influx.ensureDatabase();
    log(`writing ${DAYS} days of 15-minute readings of ${SITES * 2} meters`);
    const readings = await writeReadings(influxd.url, fromMs, toMs);

    log('reference: one bulk aggregation');
    const reference = await bulkAggregation(influxd.url, fromMs, toMs);

    log('every KPI window');
    influx.waitingMs = influx.queryMs = influx.writeMs = 0;
    const cpuBefore = { peakwatch: cpuSecondsOf(process.pid), influxd: cpuSecondsOf(influxd.process.pid) };
    const started = performance.now();
    let written = 0;
    const seconds: Record<string, number> = {};
    const phase = async (name: string, run: () => Promise<number>): Promise<void> => {
      const t = performance.now();
      written += await run();
      seconds[name] = Math.round(performance.now() - t) / 1000;
    };
    const fixed = Object.keys(FIXED_PERIOD_MS) as FixedPeriod[];
    await phase('15m, 1h, 1d with districts and city', () =>
      writeKpiSeries({
        influx,
        registry,
        policy,
        ranges: Object.fromEntries(fixed.map((p) => [p, { fromMs, toMs }])),
        utcOffsetMs: offset,
      }),
    );
    const { heatPumpMinSpf, coal, generationKgcePerKwh } = kpiFactorsFor(
      policy,
      new Date(fromMs + offset).getUTCFullYear(),
    );
    const factors = {
      minSpf: heatPumpMinSpf,
      heatKgcePerKwh: coal.heatKgcePerKwh,
      electricityKgcePerKwh: coal.electricityKgcePerKwh,
      generationKgcePerKwh,
    };
    for (const period of CALENDAR_PERIODS)
      await phase(period, () =>
        writeCalendarKpis({ influx, periods: [period], fromMs, toMs, utcOffsetMs: offset, factors }),
      );
    await phase('calendar districts and city', async () => {
      let n = 0;
      for (const period of CALENDAR_PERIODS)
        n += await writeAreaKpis({
          influx,
          registry,
          period,
          windows: windowsOf(period, fromMs, toMs, offset),
        });
      return n;
    });
    const totalSeconds = (performance.now() - started) / 1000;
    const cpu = {
      peakwatch: cpuSecondsOf(process.pid) - cpuBefore.peakwatch,
      influxd: cpuSecondsOf(influxd.process.pid) - cpuBefore.influxd,
    };
    const round = (x: number): number => Math.round(x * 100) / 100;
    process.stdout.write(
      `${JSON.stringify({
        sites: SITES,
        meters: SITES * 2,
        days: DAYS,
        readings,
        kpiValuesWritten: written,
        recompute: {
          seconds: round(totalSeconds),
          // PeakWatch reads the next site while it computes and writes, so waiting and computing overlap: the split
          // is of CPU time, PeakWatch's process against influxd's
          cpuSeconds: { peakwatch: round(cpu.peakwatch), influxd: round(cpu.influxd) },
          ownCodeShare: round(cpu.peakwatch / (cpu.peakwatch + cpu.influxd)),
          influxWaitSeconds: round(influx.waitingMs / 1000),
          influxQuerySeconds: round(influx.queryMs / 1000),
          influxWriteSeconds: round(influx.writeMs / 1000),
          secondsByPhase: seconds,
        },
        reference: {
          bulkAggregationSeconds: round(reference.seconds),
          responseMb: round(reference.bytes / 2 ** 20),
        },
        ratio: round(totalSeconds / reference.seconds),
        rssMbPeak: peakRssMbOf('self'),
      })}\n`,
    );
  } finally {
    await influxd.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error instanceof Error ? error.stack : error)}\n`);
  process.exit(1);
});
