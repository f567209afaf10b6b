import { join } from 'node:path';
import { KpiCron, type LateRecomputation } from '@peakwatch/analytics';
import { readKpis } from '@peakwatch/metering';
import { loadScenario } from '@peakwatch/device-sim';
import type { InfluxClient } from '@peakwatch/influx';
import { loadPolicyData } from '@peakwatch/policy';
import { loadRegistry } from '@peakwatch/registry';
import { Clock } from '@peakwatch/runtime';
import { DAY, HOUR, UTC8, beijingMidnight } from '../support/calendar';
import { startInfluxd, type TestInfluxd } from '../support/influxd';
import {
  CAMPUS_CONSUMPTION,
  TRUTH_ROUNDING,
  expectWithin,
  pueTolerance,
  registerTolerance,
} from '../support/tolerance';
import { backfill, publishLate, scalar, spoolDrained, startIngest, type TestIngest } from '../support/ingest';

const SEEDS = join(__dirname, '../../seeds');
/**
 * The simulated period: 31 December 2025 and 1 January 2026, so that the days fall in two months, two years and two
 * rolling 12 months, and each roll-up must hold only its own day.
 */
const FROM = beijingMidnight('2025-12-31');

interface DayTruth {
  window: string;
  consumptionKwh: number;
  itKwh?: number;
  pue?: number | null;
}
interface Truth {
  sites: Record<string, { days: DayTruth[] }>;
  devices: Record<string, { intervals15m: Record<string, [number, number][]> }>;
}

/**
 * The analytics job against the real broker, ingest and influxd: two days of the sample campus are backfilled (all of
 * it late, so the job computes every window from ingest's late-data marks), then three hours of one meter are held
 * back and sent late through the broker. The job recomputes exactly the windows they fall in, and the site, month,
 * rolling-12-month, district and city KPIs equal the simulator's ground truth.
 */
describe('KPI job: late data and roll-ups', () => {
  let influxd: TestInfluxd;
  let ingest: TestIngest;
  let influx: InfluxClient;
  let truth: Truth;
  let cron: KpiCron;
  const fromMs = FROM;
  /** The product's clock: 10:00 on the day after the period. */
  const clock = Clock.startingAt(FROM + 3 * DAY + 10 * HOUR);
  let heldFromMs: number;
  let heldToMs: number;
  let first: LateRecomputation[];
  let second: LateRecomputation[];
  let third: LateRecomputation[];
  let afterFirst: Awaited<ReturnType<typeof readKpis>>;
  let afterSecond: Awaited<ReturnType<typeof readKpis>>;
  let afterThird: Awaited<ReturnType<typeof readKpis>>;

  const drained = async (): Promise<void> => {
    expect(await spoolDrained(ingest.config.http.port)).toBe(true);
  };
  const kpis = async (period: string, scope = 'site'): Promise<Awaited<ReturnType<typeof readKpis>>> =>
    readKpis(influx, { scope: scope as 'site', period: period as '1d', fromMs: 0, toMs: clock.now() + DAY });

  beforeAll(async () => {
    influxd = await startInfluxd();
    ingest = await startIngest(influxd, 'late', {}, clock);
    influx = await influxd.client('late');
    truth = (await backfill({
      scenario: loadScenario(join(SEEDS, 'scenarios/haidian-campus.yaml')),
      seed: 3,
      fromMs,
      toMs: fromMs + 2 * DAY,
      brokerUrl: ingest.mqttUrl,
      credentials: await ingest.secrets(),
      httpPort: ingest.config.http.port,
      clock,
    })) as Truth;

    // Hold back b1-grid's readings of 10:00-13:00 on day 0: taken out of InfluxDB as if they had not arrived yet.
    heldFromMs = fromMs + 10 * HOUR;
    heldToMs = fromMs + 13 * HOUR;
    const range = `device = 'b1-grid' AND time >= ${heldFromMs}ms AND time < ${heldToMs}ms`;
    const [held] = await influx.query(`SELECT * FROM telemetry WHERE ${range}`);
    expect(held?.rows).toHaveLength(36); // 3 h of 5-minute readings
    const deleted = await fetch(
      `${influxd.url}/query?db=late&q=${encodeURIComponent(`DELETE FROM telemetry WHERE ${range}`)}`,
      { method: 'POST' },
    );
    expect(deleted.status).toBe(200);

    const config = ingest.config;
    cron = new KpiCron(config, influx, loadRegistry(join(SEEDS, 'sites')), loadPolicyData(SEEDS));
    first = await cron.runOnce(clock.now());
    afterFirst = await kpis('1h');

    // The held readings arrive now, late, through the broker as one batch from the meter itself.
    const secret = (await ingest.secrets(['b1-grid']))['b1-grid']!;
    await publishLate(ingest.mqttUrl, { siteId: 'hd-b1', deviceId: 'b1-grid', secret }, held!.rows);
    await drained();
    expect(await scalar(influx, `SELECT count(seq) FROM telemetry WHERE ${range}`)).toBe(36);

    second = await cron.runOnce(clock.now());
    afterSecond = await kpis('1h');
    third = await cron.runOnce(clock.now());
    afterThird = await kpis('1h');
  });
  afterAll(async () => {
    await ingest?.close();
    await influxd?.stop();
  });

  const within = expectWithin;
  /** The truth's consumption of hd-b1 in [startMs, startMs + 1 h): grid import − export + PV, from its quarters. */
  const b1HourKwh = (startMs: number): number => {
    const sum = (device: string, metric: string): number =>
      (truth.devices[device]!.intervals15m[metric] ?? [])
        .filter(([t]) => t >= startMs && t < startMs + HOUR)
        .reduce((s, [, kwh]) => s + kwh, 0);
    return (
      sum('b1-grid', 'energy_import_kwh') -
      sum('b1-grid', 'energy_export_kwh') +
      sum('b1-pv', 'energy_export_kwh')
    );
  };
  const b1Hour = (list: Awaited<ReturnType<typeof readKpis>>, startMs: number) =>
    list.find(
      (k) => k.entity === 'hd-b1' && k.kpi === 'energy_kwh' && !k.category && k.windowStartMs === startMs,
    )!;

  it('computes every site window of the backfill from the late-data marks', () => {
    expect(first.map((r) => r.siteId).sort()).toEqual(['hd-b1', 'hd-b2', 'hd-b3', 'hd-dc1']);
    // each site's late readings span the whole backfill: its first reading (at fromMs) to its last (2 days later)
    for (const r of first) expect([r.fromMs, r.toMs]).toEqual([fromMs, fromMs + 2 * DAY + 1]);
  });

  it('spreads the gap over its hours before the late readings arrive, estimated, and keeps their total', () => {
    // Before: b1-grid's readings from 10:00 to 12:55 are missing, so its delta from 09:55 to 13:00 spans a gap. Its
    // energy is spread over those 185 minutes by time (docs/domain.md, "Gaps"): hours 10, 11 and 12 each get 60/185
    // of it, hour 9 its last 5 minutes' share, and each is estimated. By hand: the grid's share is the same in each
    // of hours 10 to 12, so their consumption less the PV (measured by b1-pv) is equal.
    const hour = (h: number) => b1Hour(afterFirst, fromMs + h * HOUR);
    expect([9, 10, 11, 12, 13].map((h) => hour(h).estimated)).toEqual([true, true, true, true, false]);
    const pvKwh = (h: number): number =>
      (truth.devices['b1-pv']!.intervals15m['energy_export_kwh'] ?? [])
        .filter(([t]) => t >= fromMs + h * HOUR && t < fromMs + (h + 1) * HOUR)
        .reduce((s, [, kwh]) => s + kwh, 0);
    const grid = [10, 11, 12].map((h) => hour(h).value! - pvKwh(h));
    // PV from its own register (± 0.001) and the truth's four quarters; the grid share itself is the same number
    for (const g of grid) within(g, grid[0]!, 2 * registerTolerance() + 8 * TRUTH_ROUNDING);
    // and nothing is lost or invented: hours 9 to 12 hold exactly what the registers say of 09:00 to 13:00
    within(
      [9, 10, 11, 12].reduce((sum, h) => sum + hour(h).value!, 0),
      [9, 10, 11, 12].reduce((sum, h) => sum + b1HourKwh(fromMs + h * HOUR), 0),
      CAMPUS_CONSUMPTION['hd-b1']! + 48 * TRUTH_ROUNDING,
    );
  });

  it('recomputes exactly the windows the late readings fall in, once', () => {
    expect(second).toEqual([
      {
        siteId: 'hd-b1',
        fromMs: heldFromMs,
        toMs: heldToMs - 5 * 60_000 + 1, // the last held reading is at 12:55
        // the rolling 12 months that hold December: the one ending with it, and the one ending with January (the
        // job runs on 3 January)
        windows: { '15m': 12, '1h': 3, '1d': 1, '1mo': 1, '1y': 1, rolling_12mo: 2 },
      },
    ]);
    expect(third).toEqual([]); // handled marks are not recomputed again
    expect(afterThird).toEqual(afterSecond); // and running the job again changes nothing
  });

  it('brings the hours of the late readings to the truth', () => {
    for (let h = 10; h <= 13; h++) {
      const k = b1Hour(afterSecond, fromMs + h * HOUR);
      // hd-b1's three registers; the truth's 12 quarters of them each stated to 6 decimals
      within(k.value, b1HourKwh(fromMs + h * HOUR), CAMPUS_CONSUMPTION['hd-b1']! + 12 * TRUTH_ROUNDING);
      expect(k.estimated).toBe(false);
    }
  });

  it('rolls days up into months and a rolling 12 months (sums and ratios of sums)', async () => {
    const month = await kpis('1mo');
    const rolling = await kpis('rolling_12mo');
    const dc = truth.sites['hd-dc1']!.days;
    // each month holds the days of the backfill that fall in it
    const monthOf = (day: number): number => {
      const d = new Date(fromMs + day * DAY + UTC8);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) - UTC8;
    };
    for (const start of new Set([monthOf(0), monthOf(1)])) {
      const days = [0, 1].filter((d) => monthOf(d) === start);
      const energy = month.find(
        (k) => k.entity === 'hd-b1' && k.kpi === 'energy_kwh' && !k.category && k.windowStartMs === start,
      );
      // consecutive days' deltas add up to one delta per register: the days' tolerance, not their sum
      within(
        energy?.value,
        days.reduce((s, d) => s + truth.sites['hd-b1']!.days[d]!.consumptionKwh, 0),
        CAMPUS_CONSUMPTION['hd-b1']! + days.length * TRUTH_ROUNDING,
      );
      // the rolling 12 months that ends with this month: PUE = Σ facility / Σ IT of its days
      const rollingStart =
        Date.UTC(new Date(start + UTC8).getUTCFullYear(), new Date(start + UTC8).getUTCMonth() - 11, 1) -
        UTC8;
      const pue = rolling.find(
        (k) => k.entity === 'hd-dc1' && k.kpi === 'pue' && k.windowStartMs === rollingStart,
      );
      const previous = [0, 1].filter((d) => monthOf(d) <= start);
      const facility = previous.reduce((s, d) => s + dc[d]!.consumptionKwh, 0);
      const it = previous.reduce((s, d) => s + dc[d]!.itKwh!, 0);
      within(pue?.value, facility / it, pueTolerance(facility, facility / it));
      expect(pue!.completeness).toBeLessThan(1 / 12 + 1e-9); // at most one month of twelve has data
    }
  });

  it("takes the district's coincident peak from its sites' summed quarters, not the sum of their peaks", async () => {
    // the supply meter of each site (grid imports; the data centre's total): kW of a quarter = its kWh × 4
    const supply = ['b1-grid', 'b2-grid', 'b3-grid', 'dc1-total'];
    const quarterKw = (device: string): Map<number, number> =>
      new Map(
        (truth.devices[device]!.intervals15m['energy_import_kwh'] ?? []).map(([t, kwh]) => [t, kwh * 4]),
      );
    const byDevice = supply.map(quarterKw);
    // per quarter: b2-grid behind a 20:1 CT, the others to the register's 0.001 kWh, as kW
    const tolerance = 4 * (CAMPUS_CONSUMPTION['hd-b2']! + 3 * registerTolerance() + 4 * TRUTH_ROUNDING);
    const [district, districtMonths, cityYears] = await Promise.all([
      kpis('1d', 'district'),
      kpis('1mo', 'district'),
      kpis('1y', 'city'),
    ]);
    for (const day of [0, 1]) {
      const start = fromMs + day * DAY;
      const quarters = Array.from({ length: 96 }, (_, q) => start + q * 15 * 60_000);
      const summed = (t: number): number => byDevice.reduce((s, kw) => s + kw.get(t)!, 0);
      const coincident = Math.max(...quarters.map(summed));
      const sumOfPeaks = byDevice.reduce((s, kw) => s + Math.max(...quarters.map((t) => kw.get(t)!)), 0);
      // the sample campus's sites do not peak together: the two figures differ by far more than the tolerance
      expect(sumOfPeaks - coincident).toBeGreaterThan(50 * tolerance);
      const peak = district.find(
        (k) => k.entity === 'haidian' && k.kpi === 'coincident_peak_kw' && k.windowStartMs === start,
      );
      within(peak?.value, coincident, tolerance);
      // its quarter is one where the truth's sum is the peak (a near tie may pick either)
      expect(quarters).toContain(peak!.atMs);
      within(summed(peak!.atMs!), coincident, 2 * tolerance);
      // every quarter of the day has its sites' demand (each site's completeness counts all of its meters)
      expect(peak!.completeness).toBeGreaterThan(0.95);
      // a month's and a year's are the largest of their days': here each holds exactly one day of the backfill
      const monthOfDay = districtMonths
        .filter((k) => k.entity === 'haidian' && k.kpi === 'coincident_peak_kw' && k.windowStartMs <= start)
        .sort((a, b) => b.windowStartMs - a.windowStartMs)[0]!;
      expect([monthOfDay.value, monthOfDay.atMs]).toEqual([peak!.value, peak!.atMs]);
      const yearOfDay = cityYears
        .filter((k) => k.kpi === 'coincident_peak_kw' && k.windowStartMs <= start)
        .sort((a, b) => b.windowStartMs - a.windowStartMs)[0]!;
      expect([yearOfDay.value, yearOfDay.atMs]).toEqual([peak!.value, peak!.atMs]);
    }
  });

  it('rolls sites up into the district and the city', async () => {
    const district = await kpis('1d', 'district');
    const city = await kpis('1d', 'city');
    for (const day of [0, 1]) {
      const start = fromMs + day * DAY;
      const energy = district.find(
        (k) => k.entity === 'haidian' && k.kpi === 'energy_kwh' && !k.category && k.windowStartMs === start,
      );
      within(
        energy?.value,
        ['hd-b1', 'hd-b2', 'hd-b3', 'hd-dc1'].reduce(
          (s, site) => s + truth.sites[site]!.days[day]!.consumptionKwh,
          0,
        ),
        Object.values(CAMPUS_CONSUMPTION).reduce((s, t) => s + t, 0),
      );
      // one data centre in the city: its PUE is the city's
      const pue = city.find((k) => k.entity === 'beijing' && k.kpi === 'pue' && k.windowStartMs === start);
      const dc = truth.sites['hd-dc1']!.days[day]!;
      within(pue?.value, dc.pue!, pueTolerance(dc.consumptionKwh, dc.pue!));
    }
  });
});
