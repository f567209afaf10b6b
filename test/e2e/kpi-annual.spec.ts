import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KpiCron } from '@peakwatch/analytics';
import { readKpis, type KpiValue } from '@peakwatch/metering';
import { deviceTopic } from '@peakwatch/contracts';
import type { InfluxClient } from '@peakwatch/influx';
import { loadPolicyData } from '@peakwatch/policy';
import { loadRegistry } from '@peakwatch/registry';
import type { Report } from '@peakwatch/reporting';
import { Clock } from '@peakwatch/runtime';
import { ROOT, buildDist, runCliJson } from '../support/build';
import { DAY, HOUR, beijingMidnight } from '../support/calendar';
import { startInfluxd, type TestInfluxd } from '../support/influxd';
import { spoolDrained, startIngest, type TestIngest } from '../support/ingest';
import { connectClient } from '../support/mqtt';
import { expectWithin, registerTolerance } from '../support/tolerance';

const SEEDS = join(ROOT, 'seeds');
const STEP = 5 * 60_000;
/** hd-b1 (seeds/sites/hd-b1.yaml): 24,000 m², baseline 98 kWh/m² and 56 kgCO2/m², quota 2,000,000 kWh. */
const AREA = 24_000;
const BASELINE_KWH_M2 = 98;
const BASELINE_KG_M2 = 56;
const QUOTA_KWH = 2_000_000;
/** The grid factor seeds/emission-factors gives 2025 and 2026 (cn-grid-2023, kgCO2/kWh). */
const GRID_FACTOR = 0.5306;
/**
 * The grid factor of hd-b1's baseline year, 2020, as seeded: the first one (cn-grid-2021), as 2020 has none. CO2
 * compared with the baseline is at that factor in both years.
 */
const BASELINE_GRID_FACTOR = 0.5568;
/** hd-b1's baseline comprehensive energy, kgce/m² (the Haidian target's basis). */
const BASELINE_KGCE_M2 = 12.5;
const YEAR_2025 = beijingMidnight('2025-01-01');
const YEAR_2026 = beijingMidnight('2026-01-01');
const UNTIL = beijingMidnight('2026-03-06');
/** A steady load 8% below the baseline per m²: 0.92 × 98 kWh/m² × 24,000 m² over the 8,760 hours of 2025. */
const KW = (0.92 * BASELINE_KWH_M2 * AREA) / 8760;

/**
 * The annualisation row of docs/domain.md, "Projections", end to end: a building 8% below its baseline per m² all of
 * 2025 whose link lost one reading in 20 (its register kept counting), and the first nine weeks of 2026. MQTT → ingest
 * → InfluxDB → the scheduled KPI job → the stored year (read by the API and the dashboards), and the annual report.
 */
describe('a year with lost readings but no energy lost', () => {
  let influxd: TestInfluxd;
  let ingest: TestIngest;
  let influx: InfluxClient;
  let dataDir: string;
  const clock = Clock.startingAt(UNTIL + 10 * HOUR);
  let years: KpiValue[];
  let months: KpiValue[];
  let asOfMs: number;

  beforeAll(async () => {
    buildDist();
    influxd = await startInfluxd();
    dataDir = await mkdtemp(join(tmpdir(), 'peakwatch-annual-'));
    ingest = await startIngest(influxd, 'annual', { INGEST_HORIZON_DAYS: '450', DATA_DIR: dataDir }, clock);
    influx = await influxd.client('annual');
    const { 'b1-grid': secret } = await ingest.secrets(['b1-grid']);
    // every fifth minute from 1 January 2025 to 6 March 2026 but the 10th of every 20: 5% lost, never the first or
    // last; the register (it wraps at 1,000,000 kWh, twice in 2025) to its 0.001 kWh
    const readings: object[] = [];
    for (let t = YEAR_2025, i = 0; t <= UNTIL; t += STEP, i++)
      if (i % 20 !== 10)
        readings.push({
          ts: t,
          seq: i,
          values: {
            energy_import_kwh: Math.round((((KW * (t - YEAR_2025)) / HOUR) % 1_000_000) * 1000) / 1000,
          },
        });
    const device = await connectClient(ingest.mqttUrl, { username: 'b1-grid', password: secret! });
    for (let i = 0; i < readings.length; i += 1000)
      await device.publishAsync(
        deviceTopic('hd-b1', 'b1-grid', 'telemetry'),
        JSON.stringify(readings.slice(i, i + 1000)),
        {
          qos: 1,
        },
      );
    await device.endAsync();
    expect(await spoolDrained(ingest.config.http.port)).toBe(true);

    const job = new KpiCron(
      ingest.config,
      influx,
      loadRegistry(join(SEEDS, 'sites')),
      loadPolicyData(SEEDS),
      undefined,
      clock,
    );
    asOfMs = clock.now();
    await job.runOnce(asOfMs);
    years = (await readKpis(influx, { scope: 'site', period: '1y', fromMs: 0, toMs: UNTIL })).filter(
      (k) => k.entity === 'hd-b1',
    );
    months = (await readKpis(influx, { scope: 'site', period: '1mo', fromMs: 0, toMs: UNTIL })).filter(
      (k) => k.entity === 'hd-b1',
    );
  });
  afterAll(async () => {
    await ingest?.close();
    await influxd?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const year = (kpi: string, startMs: number): KpiValue => {
    const found = years.find((k) => k.kpi === kpi && !k.category && k.windowStartMs === startMs);
    if (!found) throw new Error(`no ${kpi} for the year from ${new Date(startMs).toISOString()}`);
    return found;
  };
  /** A year's energy from one register: the first and last readings' resolution. */
  const tolerance = registerTolerance();

  it("prices every quarter at its band and month by seeds/tariffs: January, February and the year's cost by hand", () => {
    // hd-b1's tariff, bj-single-part-1-10kv (seeds/tariffs/beijing.yaml, version of 2023-09-01), CNY/kWh
    const PRICE = { critical: 1.4256, peak: 1.188, flat: 0.66, valley: 0.198 };
    // the hours of each band in a day of the division bj-tou-2023: valley 23-07, peak 10-13 and 17-22, flat the
    // rest; critical 18-21 in January and December (out of the peak), 11-13 and 16-17 in July and August (out of
    // the peak 11-13 and the flat 16-17)
    const ORDINARY = { critical: 0, peak: 8, flat: 8, valley: 8 };
    const WINTER = { critical: 3, peak: 5, flat: 8, valley: 8 };
    const SUMMER = { critical: 3, peak: 6, flat: 7, valley: 8 };
    const cost = (
      days: number,
      hours: Record<keyof typeof PRICE, number>,
      band?: keyof typeof PRICE,
    ): number =>
      (band ? [band] : (Object.keys(PRICE) as (keyof typeof PRICE)[])).reduce(
        (sum, b) => sum + KW * days * hours[b] * PRICE[b],
        0,
      );
    // each quarter's kWh to the register's 0.001, at up to the critical price
    const bound = (days: number): number => days * 96 * registerTolerance() * PRICE.critical;
    const month = (startMs: number, band?: string): KpiValue | undefined =>
      months.find((k) => k.kpi === 'cost_cny' && k.windowStartMs === startMs && k.category === band);
    const jan = beijingMidnight('2026-01-01');
    const feb = beijingMidnight('2026-02-01');
    expectWithin(month(jan)?.value, cost(31, WINTER), bound(31));
    for (const band of ['critical', 'peak', 'flat', 'valley'] as const)
      expectWithin(month(jan, band)?.value, cost(31, WINTER, band), bound(31));
    expectWithin(month(feb)?.value, cost(28, ORDINARY), bound(28));
    expect(month(feb, 'critical')).toBeUndefined(); // no critical hours in February
    // 2025: January and December winter days, July and August summer days, 241 ordinary days
    const year2025 = years.find((k) => k.kpi === 'cost_cny' && !k.category && k.windowStartMs === YEAR_2025);
    expectWithin(year2025?.value, cost(62, WINTER) + cost(62, SUMMER) + cost(241, ORDINARY), bound(365));
    // the average price of the year is its cost over its energy
    const price = years.find((k) => k.kpi === 'avg_price_cny_kwh' && k.windowStartMs === YEAR_2025);
    expectWithin(price?.value, year2025!.value! / (KW * 8760), 1e-6);
  });

  it('gives the closed year its −8% per m², not annualised by its completeness, and not projected', () => {
    const energy = year('energy_kwh', YEAR_2025);
    // by hand: 0.92 × 98 × 24,000 = 2,163,840 kWh, all of it, the lost readings notwithstanding
    expectWithin(energy.value, 2_163_840, tolerance);
    // one of 20 readings lost from b1-grid, and hd-b1's five other meters silent: far from complete
    expect(energy.completeness).toBeLessThan(0.2);
    const reduction = year('energy_reduction', YEAR_2025);
    expectWithin(reduction.value, 0.08, tolerance / AREA / BASELINE_KWH_M2);
    expect(reduction.elapsed).toBeUndefined();
    // the year's CO2 at its own factor: 0.92 × 98 kWh/m² × 24,000 m² × 0.5306 kg/kWh
    expectWithin(
      year('co2_t', YEAR_2025).value,
      (0.92 * BASELINE_KWH_M2 * AREA * GRID_FACTOR) / 1000,
      (tolerance * GRID_FACTOR) / 1000,
    );
    // against the baseline, at the baseline year's factor (a factor revision is no reduction): 0.92 × 98 kWh/m² ×
    // 0.5568 kg/kWh = 50.201 kgCO2/m² against 56, a reduction of 10.36 % (at 2025's 0.5306 it would read 14.57 %)
    expectWithin(
      year('co2_reduction', YEAR_2025).value,
      1 - (0.92 * BASELINE_KWH_M2 * BASELINE_GRID_FACTOR) / BASELINE_KG_M2,
      (tolerance * BASELINE_GRID_FACTOR) / AREA / BASELINE_KG_M2,
    );
    // comprehensive energy per m²: 0.92 × 98 kWh/m² × 0.1229 kgce/kWh = 11.081 kgce/m² against 12.5
    expectWithin(
      year('energy_kgce_reduction', YEAR_2025).value,
      1 - (0.92 * BASELINE_KWH_M2 * 0.1229) / BASELINE_KGCE_M2,
      (tolerance * 0.1229) / AREA / BASELINE_KGCE_M2,
    );
    // by hand: 2,163,840 / 2,000,000
    expectWithin(year('quota_use', YEAR_2025).value, 1.08192, tolerance / QUOTA_KWH);
  });

  it('projects the year not yet over linearly by the share of it elapsed, and says so', () => {
    const reduction = year('energy_reduction', YEAR_2026);
    // by hand: 64 days and 10 hours of 365 days have elapsed at the job's run (the clock started at 10:00 on 6 March)
    expect(reduction.elapsed).toBeCloseTo((64 * DAY + 10 * HOUR) / (365 * DAY), 4);
    expect(reduction.elapsed).toBeCloseTo((asOfMs - YEAR_2026) / (365 * DAY), 9);
    expect(reduction.estimated).toBe(true);
    // so far: the steady load over the 64 days with readings, per m², projected over the share elapsed
    const soFar = (KW * 64 * 24) / AREA;
    expectWithin(reduction.value, 1 - soFar / reduction.elapsed! / BASELINE_KWH_M2, 1e-6);
    expectWithin(reduction.numerator, soFar, tolerance / AREA);
    const quota = year('quota_use', YEAR_2026);
    expect(quota.elapsed).toBe(reduction.elapsed);
    expectWithin(quota.value, (KW * 64 * 24) / reduction.elapsed! / QUOTA_KWH, 1e-6);
  });

  it("files the annual report with the year's whole grid electricity", () => {
    const run = runCliJson<Report>(['report', '--org', 'hd-tech-campus', '--year', '2025', '--json'], {
      INFLUX_URL: influxd.url,
      INFLUX_DATABASE: 'annual',
      SEEDS_DIR: SEEDS,
      DATA_DIR: dataDir,
    });
    expect(run.status).toBe(0);
    const report = run.json;
    expectWithin(
      report.energy.carriers.find((c) => c.carrier === 'grid_electricity')!.quantity,
      2_163_840,
      tolerance + 0.0005,
    );
  });
});
