import { writeCalendarKpis } from '@peakwatch/analytics';
import type { InfluxClient } from '@peakwatch/influx';
import { kpiLine, readKpis, writeKpiLines } from '@peakwatch/metering';
import { Registry, siteSchema } from '@peakwatch/registry';
import { beijingMidnight, DAY } from '../support/calendar';
import { startInfluxd, type TestInfluxd } from '../support/influxd';

const OFFSET = 8 * 3_600_000; // Asia/Shanghai
/** January 2026 (31 days): a month the test chooses, whole in the past. */
const JAN = beijingMidnight('2026-01-01');
const FACTORS = {
  minSpf: 3,
  heatKgcePerKwh: 0.0341,
  electricityKgcePerKwh: 0.1229,
  generationKgcePerKwh: 0.3,
};

const office = (id: string, district: string) =>
  siteSchema.parse({
    id,
    name: id,
    district,
    type: 'office',
    floorAreaM2: 1000,
    commissionedOn: '2020-01-01',
    devices: [{ id: `${id}-grid`, kind: 'electricity_meter', role: 'grid' }],
  });

/** A site's complete day of `kwh`, as the KPI job stores it. */
const dayLine = (site: string, windowStartMs: number, kwh: number): string =>
  kpiLine(
    {
      kpi: 'energy_kwh',
      windowStartMs,
      value: kwh,
      numerator: kwh,
      denominator: 1,
      completeness: 1,
      estimated: false,
      estimatedShare: 0,
    },
    { scope: 'site', entity: site, period: '1d' },
  );

/** Each entity's energy of the window starting on 1 January 2026, and its completeness (6 digits). */
async function stored(
  influx: InfluxClient,
  scope: 'site' | 'district' | 'city',
  period: '1mo' | '1y',
): Promise<Record<string, [number | null, number]>> {
  const kpis = await readKpis(influx, { scope, period, fromMs: JAN, toMs: JAN + DAY, kpi: 'energy_kwh' });
  return Object.fromEntries(kpis.map((k) => [k.entity, [k.value, Number(k.completeness.toFixed(6))]]));
}

/**
 * The calendar periods of a city are combined a bounded number of sites at a time (writeCalendarKpis, sitesPerRead):
 * the sites' months and their districts' and city's must be the same however the sites are cut, a cut between two
 * sites of one district included.
 */
describe('calendar KPIs combined a few sites at a time', () => {
  let influxd: TestInfluxd;
  const registry = new Registry([office('a1', 'haidian'), office('a2', 'haidian'), office('b1', 'chaoyang')]);
  /** Each site's daily energy on 1 and 2 January (kWh), complete days. */
  const days: Record<string, [number, number]> = { a1: [100, 110], a2: [200, 220], b1: [40, 44] };

  /** What every pass of these tests shares: the registry, from 1 January, Beijing time, the factors. */
  const common = (influx: InfluxClient) => ({
    influx,
    registry,
    fromMs: JAN,
    utcOffsetMs: OFFSET,
    factors: FACTORS,
  });

  beforeAll(async () => {
    influxd = await startInfluxd();
  });
  afterAll(async () => {
    await influxd?.stop();
  });

  async function seeded(): Promise<InfluxClient> {
    const influx = await influxd.client();
    await writeKpiLines(
      influx,
      Object.entries(days).flatMap(([site, values]) =>
        values.map((kwh, d) => dayLine(site, JAN + d * DAY, kwh)),
      ),
    );
    return influx;
  }

  it.each([1, 2, 500])(
    'gives each site, district and the city its month, %i site(s) at a time',
    async (sitesPerRead) => {
      const influx = await seeded();
      await writeCalendarKpis({
        ...common(influx),
        periods: ['1mo'],
        toMs: JAN + 2 * DAY,
        areas: true,
        sitesPerRead,
      });
      const month = (scope: 'site' | 'district' | 'city') => stored(influx, scope, '1mo');
      // by hand: the two days of each site; 2 of January's 31 days measured
      const twoOf31 = Number((2 / 31).toFixed(6));
      expect(await month('site')).toEqual({ a1: [210, twoOf31], a2: [420, twoOf31], b1: [84, twoOf31] });
      expect(await month('district')).toEqual({ haidian: [630, twoOf31], chaoyang: [84, twoOf31] });
      expect(await month('city')).toEqual({ beijing: [714, twoOf31] });
    },
  );

  it("combines the year from the months just written, in the periods' own order whatever the order asked", async () => {
    const influx = await seeded();
    // and 1 February: a second month of the year
    const FEB = beijingMidnight('2026-02-01');
    const feb: Record<string, number> = { a1: 120, a2: 240, b1: 48 };
    await writeKpiLines(
      influx,
      Object.entries(feb).map(([site, kwh]) => dayLine(site, FEB, kwh)),
    );
    await writeCalendarKpis({
      ...common(influx),
      periods: ['rolling_12mo', '1y', '1mo'],
      toMs: FEB + DAY,
      areas: true,
      sitesPerRead: 1,
    });
    const year = (scope: 'site' | 'city') => stored(influx, scope, '1y');
    // by hand: January's two days and February's one; the year's completeness is the mean over its 12 months
    const completeness = Number(((2 / 31 + 1 / 28) / 12).toFixed(6));
    expect(await year('site')).toEqual({
      a1: [330, completeness],
      a2: [660, completeness],
      b1: [132, completeness],
    });
    expect(await year('city')).toEqual({ beijing: [1122, completeness] });
  });

  it("gives a month its cost (none when a day had no tariff), its peak with the day's time, and its load factor", async () => {
    const influx = await influxd.client();
    const line = (site: string, d: number, kpi: string, value: number | null, more: object = {}): string =>
      kpiLine(
        {
          kpi,
          windowStartMs: JAN + d * DAY,
          value,
          numerator: value ?? 0,
          denominator: 1,
          completeness: 1,
          estimated: false,
          estimatedShare: 0,
          ...more,
        },
        { scope: 'site', entity: site, period: '1d' },
      );
    const peakAt = (d: number): number => JAN + d * DAY + 10 * 3_600_000;
    await writeKpiLines(influx, [
      // a1: two priced days; a2: its second day at no tariff
      line('a1', 0, 'cost_cny', 70),
      line('a1', 1, 'cost_cny', 80),
      line('a2', 0, 'cost_cny', 140),
      line('a2', 1, 'cost_cny', null, { noTariff: true }),
      // a1's peaks (kW) and grid imports (kWh) of the two days
      line('a1', 0, 'peak_demand_kw', 30, { atMs: peakAt(0) }),
      line('a1', 1, 'peak_demand_kw', 40, { atMs: peakAt(1) }),
      line('a1', 0, 'grid_import_kwh', 500),
      line('a1', 1, 'grid_import_kwh', 600),
    ]);
    await writeCalendarKpis({ ...common(influx), periods: ['1mo'], toMs: JAN + 2 * DAY, areas: true });
    const month = await readKpis(influx, { scope: 'site', period: '1mo', fromMs: JAN, toMs: JAN + DAY });
    const find = (site: string, kpi: string) => month.find((k) => k.entity === site && k.kpi === kpi);
    expect(find('a1', 'cost_cny')!.value).toBe(150);
    expect(find('a2', 'cost_cny')).toMatchObject({ value: null, noTariff: true });
    expect(find('a1', 'peak_demand_kw')).toMatchObject({ value: 40, atMs: peakAt(1) });
    // by hand: 1,100 kWh over 40 kW held for January's 744 hours
    expect(find('a1', 'load_factor')!.value).toBeCloseTo(1100 / (40 * 744), 12);
    // the district's cost is its priced sites' (a2 has none for the month)
    const district = await readKpis(influx, {
      scope: 'district',
      period: '1mo',
      fromMs: JAN,
      toMs: JAN + DAY,
      kpi: 'cost_cny',
    });
    expect(district.map((k) => [k.entity, k.value])).toEqual([['haidian', 150]]);
  });

  it('writes only the sites asked for, and no districts or city for them', async () => {
    const influx = await seeded();
    await writeCalendarKpis({
      ...common(influx),
      periods: ['1mo'],
      toMs: JAN + 2 * DAY,
      siteIds: ['a2'],
      areas: true,
      sitesPerRead: 1,
    });
    const written = await readKpis(influx, { scope: 'site', period: '1mo', fromMs: JAN, toMs: JAN + DAY });
    expect([...new Set(written.map((k) => k.entity))]).toEqual(['a2']);
    expect(await readKpis(influx, { scope: 'city', period: '1mo', fromMs: JAN, toMs: JAN + DAY })).toEqual(
      [],
    );
  });
});
