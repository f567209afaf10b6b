import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KpiCron, computeSiteKpis } from '@peakwatch/analytics';
import { readKpis, type KpiFactors, type KpiValue } from '@peakwatch/metering';
import { deviceTopic } from '@peakwatch/contracts';
import type { InfluxClient } from '@peakwatch/influx';
import { loadPolicyData } from '@peakwatch/policy';
import { Registry, loadRegistry } from '@peakwatch/registry';
import type { Report } from '@peakwatch/reporting';
import { Clock } from '@peakwatch/runtime';
import { ROOT, buildDist, runCliJson } from '../support/build';
import { DAY, HOUR, UTC8, beijingMidnight } from '../support/calendar';
import { startInfluxd, type TestInfluxd } from '../support/influxd';
import { spoolDrained, startIngest, type TestIngest } from '../support/ingest';
import { connectClient } from '../support/mqtt';
import { expectWithin, registerTolerance } from '../support/tolerance';

const SEEDS = join(ROOT, 'seeds');
const MINUTE = 60_000;
const STEP = 5 * MINUTE; // the meters' reading interval (the registry's default)
const FACTORS: KpiFactors = {
  gridKgCo2PerKwh: 0.5703,
  gasKgCo2PerM3: 2.162,
  heatTCo2PerGj: 0.11,
  gasNcvKjPerM3: 38931,
  coal: { electricityKgcePerKwh: 0.1229, gasKgcePerM3: 1.2143, heatKgcePerKwh: 0.122832 },
  heatPumpMinSpf: 2.5,
  generationKgcePerKwh: 0.3,
};

/** A meter running at a constant power: its register at any instant, to the payload's 0.001 kWh. */
const register = (kw: number, sinceMs: number) => (tsMs: number) =>
  Math.round(((kw * (tsMs - sinceMs)) / HOUR) * 1000) / 1000;

/** Reading times every 5 minutes over [fromMs, toMs], less those inside any of `silent` ((from, to) open). */
function readingTimes(fromMs: number, toMs: number, silent: [number, number][] = []): number[] {
  const out: number[] = [];
  for (let t = fromMs; t <= toMs; t += STEP) if (!silent.some(([a, b]) => t > a && t < b)) out.push(t);
  return out;
}

/**
 * Meters that go silent, end to end (MQTT → InfluxDB → the KPI job → the `kpi` command → the report), each case a
 * constant load worked by hand (docs/domain.md, "Gaps"):
 * - a data centre whose IT meter is silent for a whole day while its register keeps counting;
 * - an office at a steady 100 kW with a one-hour gap in its readings;
 * - the same meter silent from 22:00 on 31 January to 01:00 on 1 February (a month boundary), then for a month;
 * - the office's power meter silent for 59 days, longer than any silence that is bridged;
 * - the office's other four meters silent throughout (completeness expects every registered meter).
 */
describe('KPIs when meters go silent', () => {
  let influxd: TestInfluxd;
  let ingest: TestIngest;
  let influx: InfluxClient;
  let dataDir: string;
  const clock = Clock.startingAt(beijingMidnight('2026-03-06') + 10 * HOUR);
  /** Monday 2 to Wednesday 4 March 2026: the data centre. */
  const DC_FROM = beijingMidnight('2026-03-02');
  /** 31 January 2026 to 2 March 2026: the office's grid meter at 100 kW throughout. */
  const B3_SINCE = beijingMidnight('2026-01-31');
  const days = new Map<string, KpiValue[]>();

  const publish = async (siteId: string, deviceId: string, secret: string, readings: object[]) => {
    const device = await connectClient(ingest.mqttUrl, { username: deviceId, password: secret });
    for (let i = 0; i < readings.length; i += 50)
      await device.publishAsync(
        deviceTopic(siteId, deviceId, 'telemetry'),
        JSON.stringify(readings.slice(i, i + 50)),
        { qos: 1 },
      );
    await device.endAsync();
  };
  const energyReadings = (times: number[], at: (t: number) => number) =>
    times.map((ts, seq) => ({ ts, seq, values: { energy_import_kwh: at(ts) } }));

  beforeAll(async () => {
    buildDist();
    influxd = await startInfluxd();
    dataDir = await mkdtemp(join(tmpdir(), 'peakwatch-silent-'));
    ingest = await startIngest(influxd, 'silent', { INGEST_HORIZON_DAYS: '90', DATA_DIR: dataDir }, clock);
    influx = await influxd.client('silent');
    const secrets = await ingest.secrets(['dc1-total', 'dc1-it', 'b3-grid', 'b3-power']);

    // the data centre: facility 1,300 kWh a day, IT 1,000; the IT meter sends nothing after the first day's last
    // reading (24:00) until 00:05 on the third
    const dcEnd = DC_FROM + 3 * DAY;
    await publish(
      'hd-dc1',
      'dc1-total',
      secrets['dc1-total']!,
      energyReadings(readingTimes(DC_FROM, dcEnd), register(1300 / 24, DC_FROM)),
    );
    await publish(
      'hd-dc1',
      'dc1-it',
      secrets['dc1-it']!,
      energyReadings(
        readingTimes(DC_FROM, dcEnd, [[DC_FROM + DAY, DC_FROM + 2 * DAY + STEP]]),
        register(1000 / 24, DC_FROM),
      ),
    );
    // the office's grid meter at 100 kW from 31 January to 3 March, heard only in parts
    const feb1 = beijingMidnight('2026-02-01');
    await publish(
      'hd-b3',
      'b3-grid',
      secrets['b3-grid']!,
      energyReadings(
        [
          ...readingTimes(B3_SINCE, feb1 - 2 * HOUR), // until 22:00 on 31 January
          ...readingTimes(feb1 + HOUR, feb1 + 12 * HOUR), // from 01:00 to 12:00 on 1 February
          ...readingTimes(DC_FROM, DC_FROM + DAY, [[DC_FROM + 10 * HOUR, DC_FROM + 11 * HOUR]]), // 2 March
        ],
        register(100, B3_SINCE),
      ),
    );
    // the office's power meter at 10 kW throughout, heard on 2 January until 01:00, then not until 06:00 on 2 March:
    // a silence of 59 days, longer than any that is bridged (35)
    const jan2 = beijingMidnight('2026-01-02');
    await publish(
      'hd-b3',
      'b3-power',
      secrets['b3-power']!,
      energyReadings(
        [...readingTimes(jan2, jan2 + HOUR), ...readingTimes(DC_FROM + 6 * HOUR, DC_FROM + DAY)],
        register(10, jan2),
      ),
    );
    expect(await spoolDrained(ingest.config.http.port)).toBe(true);

    // the KPI job, as scheduled: every window the late readings fall in
    const cron = new KpiCron(
      ingest.config,
      influx,
      loadRegistry(join(SEEDS, 'sites')),
      loadPolicyData(SEEDS),
    );
    await cron.runOnce(clock.now());
    for (const site of ['hd-dc1', 'hd-b3'])
      days.set(
        site,
        (await readKpis(influx, { scope: 'site', period: '1d', fromMs: 0, toMs: clock.now() })).filter(
          (k) => k.entity === site,
        ),
      );
  });
  afterAll(async () => {
    await ingest?.close();
    await influxd?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const kpi = (site: string, name: string, dayMs: number): KpiValue => {
    const found = days.get(site)!.find((k) => k.kpi === name && !k.category && k.windowStartMs === dayMs);
    if (!found) throw new Error(`no ${name} of ${site} on ${new Date(dayMs).toISOString()}`);
    return found;
  };
  /** One day of a register (two readings, each to 0.001 kWh). */
  const dayTolerance = registerTolerance();

  it("gives each day of the data centre its PUE of 1.30, the IT meter's silent day too (estimated)", () => {
    // by hand: 1,300 / 1,000 each day; the silent day's IT energy is its 24 h share of the gap's 24 h 5 min
    for (let d = 0; d < 3; d++) {
      const pue = kpi('hd-dc1', 'pue', DC_FROM + d * DAY);
      expectWithin(pue.numerator, 1300, dayTolerance);
      expectWithin(pue.denominator, 1000, dayTolerance);
      expectWithin(pue.value, 1.3, 1e-5);
      expect(pue.estimated).toBe(d > 0);
    }
    // by hand: the second day's IT energy is all spread (share 1); the third receives the gap's last 5 minutes,
    // 5 / 1,440 of its 1,000 kWh
    expect(kpi('hd-dc1', 'pue', DC_FROM).estimatedShare).toBe(0);
    expect(kpi('hd-dc1', 'pue', DC_FROM + DAY).estimatedShare).toBeCloseTo(1, 5);
    expect(kpi('hd-dc1', 'pue', DC_FROM + 2 * DAY).estimatedShare).toBeCloseTo(5 / 1440, 5);
  });

  it('gives the office its true peak demand of 100 kW across a one-hour gap, marked estimated', () => {
    // by hand: every measured quarter holds 25 kWh, 100 kW; the gap's 100 kWh is spread, 25 to each of its quarters
    const peak = kpi('hd-b3', 'peak_demand_kw', DC_FROM);
    expectWithin(peak.value, 100, 4 * dayTolerance);
    expect(peak.estimated).toBe(true);
    const energy = kpi('hd-b3', 'energy_kwh', DC_FROM);
    expectWithin(energy.value, 2400, dayTolerance);
    // by hand: 100 of the day's 2,400 kWh were spread over the gap
    expect(energy.estimatedShare).toBeCloseTo(100 / 2400, 5);
    expect(peak.estimatedShare).toBeCloseTo(100 / 2400, 5);
  });

  it("expects every registered meter: five of the office's seven meters, silent all day, count as none of theirs", () => {
    // by hand: on 2 March b3-grid sent its readings at 00:00 ... 23:55 but for the 11 of 10:05 ... 10:55, 277 of 288;
    // b3-power those of 06:00 ... 23:55, 216; b3-lighting, -hvac, -special, b3-gas and b3-heat none:
    // (277 + 216) / (7 × 288)
    expect(kpi('hd-b3', 'energy_kwh', DC_FROM).completeness).toBeCloseTo((277 + 216) / (7 * 288), 9);
    // and the data centre's IT meter, silent on 3 March but for its reading at 00:00: (288 + 1) / (2 × 288)
    expect(kpi('hd-dc1', 'pue', DC_FROM + DAY).completeness).toBeCloseTo(289 / 576, 9);
  });

  it("reports each meter's completeness, so that the silent one can be found", () => {
    const meter = (site: string, device: string, dayMs: number) =>
      days
        .get(site)!
        .find((k) => k.kpi === 'meter_completeness' && k.category === device && k.windowStartMs === dayMs);
    // by hand, as above, meter by meter
    expect(meter('hd-b3', 'b3-grid', DC_FROM)).toMatchObject({
      value: 277 / 288,
      numerator: 277,
      denominator: 288,
    });
    expect(meter('hd-b3', 'b3-power', DC_FROM)).toMatchObject({ value: 216 / 288, numerator: 216 });
    for (const silent of ['b3-lighting', 'b3-hvac', 'b3-special', 'b3-gas', 'b3-heat'])
      expect(meter('hd-b3', silent, DC_FROM)).toMatchObject({ value: 0, numerator: 0, denominator: 288 });
    expect(meter('hd-dc1', 'dc1-it', DC_FROM + DAY)).toMatchObject({ value: 1 / 288, numerator: 1 });
    expect(meter('hd-dc1', 'dc1-total', DC_FROM + DAY)).toMatchObject({ value: 1, numerator: 288 });
  });

  it('counts a meter removed mid-day (registry `removedAt`) until its removal, and one deleted from the registry not at all', async () => {
    const seeds = loadRegistry(join(SEEDS, 'sites'));
    const withPower = (power: object | undefined) =>
      new Registry(
        seeds.sites.map((site) =>
          site.id !== 'hd-b3'
            ? site
            : {
                ...site,
                devices: site.devices.flatMap((d) =>
                  d.id !== 'b3-power' ? [d] : power ? [{ ...d, ...power }] : [],
                ),
              },
        ),
      );
    const march2 = (registry: Registry) =>
      computeSiteKpis({
        influx,
        registry,
        siteId: 'hd-b3',
        fromMs: DC_FROM,
        toMs: DC_FROM + DAY,
        period: '1d',
        utcOffsetMs: UTC8,
        factors: FACTORS,
      });
    const of = (list: KpiValue[], name: string, category?: string) =>
      list.find((k) => k.kpi === name && k.category === category);
    // removed at noon (its final reading): by hand, 10 kW from its first reading at 06:00 to noon, 60 kWh; the 73
    // readings of 06:00 ... 12:00 of the 145 of 00:00 ... 12:00; the site expects the other six meters' 288 each
    const removed = await march2(withPower({ removedAt: '2026-03-02T12:00:00+08:00' }));
    expectWithin(of(removed, 'energy_kwh', 'power')?.value, 60, dayTolerance);
    expect(of(removed, 'meter_completeness', 'b3-power')).toMatchObject({
      value: 73 / 145,
      numerator: 73,
      denominator: 145,
    });
    expect(of(removed, 'energy_kwh')!.completeness).toBeCloseTo((277 + 73) / (6 * 288 + 145), 9);
    // deleted from the registry: the site's KPIs no longer read it, nor expect it (its readings stay in InfluxDB)
    const deleted = await march2(withPower(undefined));
    expect(of(deleted, 'energy_kwh', 'power')).toBeUndefined();
    expect(of(deleted, 'meter_completeness', 'b3-power')).toBeUndefined();
    expect(of(deleted, 'energy_kwh')!.completeness).toBeCloseTo(277 / (6 * 288), 9);
    expectWithin(of(deleted, 'energy_kwh')!.value, 2400, dayTolerance);
  });

  it('does not bridge a silence longer than 35 days, and gives its days no value rather than zero', async () => {
    const power = (
      await readKpis(influx, { scope: 'site', period: '1d', fromMs: 0, toMs: clock.now() })
    ).filter((k) => k.entity === 'hd-b3' && k.kpi === 'energy_kwh' && k.category === 'power');
    const on = (dayMs: number) => power.find((k) => k.windowStartMs === dayMs);
    // by hand: on 2 March what it measured from its first reading at 06:00, 10 kW × 18 h (bridged it would be 240)
    expectWithin(on(DC_FROM)?.value, 180, dayTolerance);
    expect(on(DC_FROM)?.estimated).toBe(false);
    // 1 February lies inside the silence: the job computes the day (b3-grid's readings), the power meter has none
    expect(on(B3_SINCE + DAY)?.value ?? null).toBeNull();
  });

  it('keeps the energy of a silence across a month boundary: 2,400 kWh on each side of midnight', () => {
    // by hand: 100 kW × 24 h on 31 January (its last 2 hours from the gap to 01:00) and on 1 February (its first
    // hour from that gap, its last 12 from the month-long silence that follows)
    expectWithin(kpi('hd-b3', 'energy_kwh', B3_SINCE).value, 2400, dayTolerance);
    expectWithin(kpi('hd-b3', 'energy_kwh', B3_SINCE + DAY).value, 2400, dayTolerance);
  });

  it('reaches readings two weeks away for a day inside a month-long silence', async () => {
    // by hand: 15 February lies in b3-grid's silence from 12:00 on 1 February to 2 March, 100 kW × 24 h, all spread
    const feb15 = beijingMidnight('2026-02-15');
    const [energy] = (
      await computeSiteKpis({
        influx,
        registry: loadRegistry(join(SEEDS, 'sites')),
        siteId: 'hd-b3',
        fromMs: feb15,
        toMs: feb15 + DAY,
        period: '1d',
        utcOffsetMs: UTC8,
        factors: FACTORS,
      })
    ).filter((k) => k.kpi === 'energy_kwh' && !k.category);
    expectWithin(energy!.value, 2400, dayTolerance);
    expect(energy!.estimatedShare).toBeCloseTo(1, 9);
  });

  it('`peakwatch kpi` prints the same days as the stored series', () => {
    const run = runCliJson<KpiValue[]>(
      ['kpi', '--site', 'hd-b3', '--from', '2026-01-31', '--to', '2026-02-02', '--json'],
      { INFLUX_URL: influxd.url, INFLUX_DATABASE: 'silent', SEEDS_DIR: SEEDS },
    );
    expect(run.stderr).toBe('');
    const printed = run.json.filter((k) => k.kpi === 'energy_kwh' && !k.category);
    expect(printed.map((k) => k.windowStartMs)).toEqual([B3_SINCE, B3_SINCE + DAY]);
    for (const k of printed) expectWithin(k.value, 2400, dayTolerance);
  });

  it("files January's and February's reports with all of the office's energy between them", () => {
    const grid = (month: string): number => {
      const run = runCliJson<Report>(['report', '--org', 'hd-tech-campus', '--month', month, '--json'], {
        INFLUX_URL: influxd.url,
        INFLUX_DATABASE: 'silent',
        SEEDS_DIR: SEEDS,
        DATA_DIR: dataDir,
      });
      expect(run.status).toBe(0);
      const report = run.json;
      return report.energy.carriers.find((c) => c.carrier === 'grid_electricity')!.quantity;
    };
    // by hand: 100 kW over 31 January (2,400 kWh) and over all of February, heard or not (28 × 2,400 = 67,200); the
    // data centre's meters are not grid meters of the report (its facility meter is, from 2 March on); b3-power is a
    // sub-meter, not a carrier
    expectWithin(grid('2026-01'), 2400, dayTolerance + 0.0005);
    expectWithin(grid('2026-02'), 28 * 2400, dayTolerance + 0.0005);
  });
});
