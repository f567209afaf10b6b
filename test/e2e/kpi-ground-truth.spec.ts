import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { computeSiteKpis, writeKpiSeries } from '@peakwatch/analytics';
import { type KpiFactors, type KpiValue } from '@peakwatch/metering';
import { loadPolicyData } from '@peakwatch/policy';
import { Clock } from '@peakwatch/runtime';
import { DAY, HOUR, UTC8, beijingMidnight } from '../support/calendar';
import { backfill, scalar, startIngest, type TestIngest } from '../support/ingest';
import { loadScenario } from '@peakwatch/device-sim';
import { loadRegistry } from '@peakwatch/registry';
import { CLI, ROOT, buildDist } from '../support/build';
import { startInfluxd, type TestInfluxd } from '../support/influxd';
import { childEnv } from '../support/processes';
import {
  CAMPUS_CONSUMPTION,
  expectWithin,
  pueTolerance,
  ratioTolerance,
  registerTolerance,
} from '../support/tolerance';

const SEEDS = join(__dirname, '../../seeds');
/** Days backfilled: 35 days of the sample campus. */
const DAYS = 35;
/**
 * The simulated period: 20 February to 26 March 2026. It crosses a month boundary and the end of Beijing's heating
 * season (15 March), so the heat pumps run on some days (and their ambient heat counts) and not on others, and it
 * holds five weekends.
 */
const FROM = beijingMidnight('2026-02-20');

interface DayTruth {
  window: string;
  consumptionKwh: number;
  co2Kg: number;
  pvKwh?: number;
  renewableShare?: number | null;
  categoryKwh?: Record<string, number>;
  pue?: number;
  heatPumps?: Record<string, { heatKwh: number; electricKwh: number; cop: number | null }>;
  gasM3?: number;
  purchasedHeatKwh?: number;
  energyKgce: number;
  energyKgcePerM2: number;
}
interface Truth {
  emissionFactors: Record<string, { value: number }>;
  sites: Record<string, { days: DayTruth[] }>;
  devices: Record<
    string,
    {
      site: string;
      intervals15m: Record<string, unknown>;
      completeness: { day: string; expected: number; received: number }[];
    }
  >;
}

/**
 * The simulator's ground truth is the oracle: 35 days of the sample campus, with every fault of the scenario (gap,
 * offline, out-of-order and late batches, meter replacement, register wrap, duplicates, clock skew, CT ratio),
 * through the real broker and ingest into the real influxd; the KPIs computed from InfluxDB equal what the
 * simulator generated within 0.5%.
 */
describe('KPIs from InfluxDB equal the simulator ground truth', () => {
  let influxd: TestInfluxd;
  let ingest: TestIngest;
  let truth: Truth;
  const fromMs = FROM;
  const kpis = new Map<string, KpiValue[]>();
  const quarters = new Map<string, KpiValue[]>();
  /** The simulator's own factors, so that CO2 is compared like for like; calorific coal equivalents. */
  const factors: KpiFactors = {
    gridKgCo2PerKwh: 0.5703,
    gasKgCo2PerM3: 2.162,
    heatTCo2PerGj: 0.11,
    gasNcvKjPerM3: 38931,
    coal: { electricityKgcePerKwh: 0.1229, gasKgcePerM3: 1.2143, heatKgcePerKwh: 0.122832 },
    heatPumpMinSpf: 2.5, // the scenario's renewableAccounting.heatPumpMinSpf
    generationKgcePerKwh: 0.3, // the scenario's renewableAccounting.electricityKgcePerKwhGeneration
    tariffs: loadPolicyData(SEEDS).tariffs, // seeds/tariffs, which the sample campus's sites declare
  };

  beforeAll(async () => {
    influxd = await startInfluxd();
    // ingest's clock at 10:00 the day after the period: 35 days reach back beyond the default 35-day horizon
    const toMs = fromMs + DAYS * DAY;
    const clock = Clock.startingAt(toMs + DAY + 10 * HOUR);
    ingest = await startIngest(influxd, 'truth', { INGEST_HORIZON_DAYS: '40' }, clock);
    const scenario = loadScenario(join(SEEDS, 'scenarios/haidian-campus.yaml'));
    truth = (await backfill({
      scenario,
      seed: 3,
      fromMs,
      toMs,
      brokerUrl: ingest.mqttUrl,
      credentials: await ingest.secrets(),
      httpPort: ingest.config.http.port,
      clock,
    })) as Truth;
    const client = await influxd.client('truth');
    const registry = loadRegistry(join(SEEDS, 'sites'));
    for (const site of ['hd-b1', 'hd-b2', 'hd-b3', 'hd-dc1']) {
      kpis.set(
        site,
        await computeSiteKpis({
          influx: client,
          registry,
          siteId: site,
          fromMs,
          toMs,
          period: '1d',
          utcOffsetMs: UTC8,
          factors,
        }),
      );
      quarters.set(
        site,
        await computeSiteKpis({
          influx: client,
          registry,
          siteId: site,
          fromMs,
          toMs,
          period: '15m',
          utcOffsetMs: UTC8,
          factors,
        }),
      );
    }
  });
  afterAll(async () => {
    await ingest?.close();
    await influxd?.stop();
  });

  const value = (site: string, day: number, kpi: string, category?: string): KpiValue => {
    const found = kpis
      .get(site)!
      .find((k) => k.kpi === kpi && k.category === category && k.windowStartMs === fromMs + day * DAY);
    if (!found) throw new Error(`no ${kpi}/${category ?? ''} for ${site} day ${day}`);
    return found;
  };
  const within = expectWithin;
  const CONSUMPTION = CAMPUS_CONSUMPTION;
  /** The grid's net purchase (b1: import and export registers), gas (m3) and heat, as each day's CO2 reads them. */
  const GRID_NET: Record<string, number> = { ...CONSUMPTION, 'hd-b1': 2 * registerTolerance() };
  const GAS: Record<string, number> = { 'hd-b3': registerTolerance() };
  const HEAT: Record<string, number> = { 'hd-b3': registerTolerance() };
  /** A kWh of heat in tonnes of CO2 at 0.11 tCO2/GJ (3.6 MJ a kWh). */
  const HEAT_T_PER_KWH = 0.0036 * 0.11;
  /** A day's PUE: dc1-total over dc1-it, each to one register's resolution. */
  const dayPue = (day: DayTruth): number => pueTolerance(day.consumptionKwh, day.pue!);

  it.each(['hd-b1', 'hd-b2', 'hd-b3', 'hd-dc1'])(
    '%s: daily energy (grid ± PV; CT ratio on b2, wrap on b3, late batch on b1)',
    (site) => {
      truth.sites[site]!.days.forEach((day, i) =>
        within(value(site, i, 'energy_kwh').value, day.consumptionKwh, CONSUMPTION[site]!),
      );
    },
  );

  it('writes only energy, demand, PUE and COP for quarter hours (the others from 1h or 1d on)', () => {
    const names = (list: KpiValue[]) => [...new Set(list.map((k) => k.kpi))].sort();
    expect(names(quarters.get('hd-b2')!)).toEqual(['cop', 'demand_kw', 'energy_kwh']); // b2 has the heat pumps
    expect(names(quarters.get('hd-dc1')!)).toEqual(['demand_kw', 'energy_kwh', 'pue']);
    expect(names(kpis.get('hd-b1')!)).toEqual(
      expect.arrayContaining(['co2_t', 'eui_kwh_m2', 'register_anomalies', 'renewable_share']),
    );
    // a quarter's demand is for quarter hours only (a day has its peak instead)
    expect(names(kpis.get('hd-b1')!)).not.toContain('demand_kw');
  });

  it.each<[string, string, string | undefined, number]>([
    // device of the fault, its site, the KPI category that is that device alone, tolerance (kWh)
    ['b3-grid', 'hd-b3', undefined, 0.01], // register wrap at 1,000,000 kWh (b3 has no PV: energy = grid import)
    ['b1-hvac', 'hd-b1', 'hvac', 0.01], // declared meter replacement
    ['b2-grid', 'hd-b2', undefined, 0.1], // 20:1 CT ratio: register rounding 0.001 × 20 per reading
  ])('%s: every 15-minute energy equals the truth (no quarter lost)', (device, site, category, tolerance) => {
    const expected = (truth.devices[device]!.intervals15m as Record<string, [number, number][]>)[
      'energy_import_kwh'
    ]!;
    const computed = quarters.get(site)!.filter((k) => k.kpi === 'energy_kwh' && k.category === category);
    expect(computed).toHaveLength(expected.length); // 35 days × 96
    expected.forEach(([startMs, kwh], i) => {
      expect(computed[i]!.windowStartMs).toBe(startMs);
      expect(Math.abs(computed[i]!.value! - kwh)).toBeLessThan(tolerance);
    });
  });

  it('gives the peak demand (largest 15-minute average kW of the supply meter) and the PV yield per kWp', () => {
    const quarters = (device: string, metric = 'energy_import_kwh'): [number, number][] =>
      (truth.devices[device]!.intervals15m as Record<string, [number, number][]>)[metric]!;
    for (const day of [0, 1]) {
      const inDay = ([t]: [number, number]): boolean =>
        t >= fromMs + day * DAY && t < fromMs + (day + 1) * DAY;
      // by hand from the truth: 4 × the day's largest quarter-hour energy of hd-b3's and hd-dc1's supply meters (a
      // quarter's energy to one register's resolution, so 4 × that in kW)
      for (const [site, meter] of [
        ['hd-b3', 'b3-grid'],
        ['hd-dc1', 'dc1-total'],
      ] as const)
        within(
          value(site, day, 'peak_demand_kw').value,
          4 *
            Math.max(
              ...quarters(meter)
                .filter(inDay)
                .map(([, kwh]) => kwh),
            ),
          4 * registerTolerance(),
        );
      // hd-b1's PV: the day's generation over its 300 kWp
      within(
        value('hd-b1', day, 'pv_yield_kwh_kwp').value,
        truth.sites['hd-b1']!.days[day]!.pvKwh! / 300,
        registerTolerance() / 300,
      );
    }
  });

  it("prices every quarter of hd-dc1 at its band of Beijing's time-of-use division; hd-b3 has no tariff", () => {
    // by hand (京发改规〔2023〕11号, two-part 1–10 kV): valley 23:00–07:00 at 0.24, peak 10–13 and 17–22 at 0.96,
    // flat otherwise at 0.6 CNY/kWh; no critical hours from February to March
    const priceAt = (startMs: number): number => {
      const hour = new Date(startMs + UTC8).getUTCHours();
      if (hour < 7 || hour >= 23) return 0.24;
      return (hour >= 10 && hour < 13) || (hour >= 17 && hour < 22) ? 0.96 : 0.6;
    };
    const quarters = (truth.devices['dc1-total']!.intervals15m as Record<string, [number, number][]>)[
      'energy_import_kwh'
    ]!;
    for (let day = 0; day < DAYS; day++) {
      const inDay = quarters.filter(([t]) => t >= fromMs + day * DAY && t < fromMs + (day + 1) * DAY);
      const cost = inDay.reduce((c, [t, kwh]) => c + kwh * priceAt(t), 0);
      const peakKwh = inDay.reduce((e, [t, kwh]) => e + (priceAt(t) === 0.96 ? kwh : 0), 0);
      const kwh = inDay.reduce((e, [, x]) => e + x, 0);
      // each of the day's 7 runs of one band is a register difference, known to its resolution
      within(value('hd-dc1', day, 'cost_cny').value, cost, 7 * registerTolerance() * 0.96);
      within(
        value('hd-dc1', day, 'peak_band_share').value,
        peakKwh / kwh,
        ratioTolerance(peakKwh, 2 * registerTolerance(), kwh, registerTolerance()),
      );
      // its load factor: the day's energy over its peak held for 24 hours
      const peakKw = 4 * Math.max(...inDay.map(([, x]) => x));
      within(
        value('hd-dc1', day, 'load_factor').value,
        kwh / (peakKw * 24),
        ratioTolerance(kwh, registerTolerance(), peakKw * 24, 4 * registerTolerance() * 24),
      );
      expect(value('hd-b3', day, 'cost_cny')).toMatchObject({ value: null, noTariff: true });
    }
    // the peak's time is that of the truth's largest quarter
    const first = quarters.filter(([t]) => t >= fromMs && t < fromMs + DAY);
    const largest = first.reduce((a, b) => (b[1] > a[1] ? b : a));
    expect(value('hd-dc1', 0, 'peak_demand_kw').atMs).toBe(largest[0]);
  });

  it('finds no unexplained register reading: the wrap and the declared replacement are explained', () => {
    for (const site of ['hd-b1', 'hd-b2', 'hd-b3', 'hd-dc1'])
      for (let day = 0; day < DAYS; day++) expect(value(site, day, 'register_anomalies').value).toBe(0);
  });

  it('gives a window without data no value and completeness 0, never a zero KPI', async () => {
    const client = await influxd.client('truth');
    const registry = loadRegistry(join(SEEDS, 'sites'));
    const before = fromMs - DAY;
    const empty = await computeSiteKpis({
      influx: client,
      registry,
      siteId: 'hd-dc1',
      fromMs: before,
      toMs: fromMs - 3_600_000,
      period: '1d',
      utcOffsetMs: UTC8,
      factors,
    });
    // every meter owes its readings: each one's completeness is 0 (a measured zero, not a missing value)
    const meters = empty.filter((k) => k.kpi === 'meter_completeness');
    expect(meters.map((k) => k.category)).toEqual(['dc1-total', 'dc1-it']);
    for (const k of meters) expect([k.value, k.numerator, k.denominator]).toEqual([0, 0, 288]);
    expect(
      empty.filter((k) => k.kpi !== 'meter_completeness').map((k) => [k.kpi, k.value, k.completeness]),
    ).toEqual([
      ['register_anomalies', null, 0],
      ['peak_demand_kw', null, 0],
      ['load_factor', null, 0],
      ['cost_cny', null, 0],
      ['avg_price_cny_kwh', null, 0],
      ['peak_band_share', null, 0],
      ['energy_kwh', null, 0],
      ['pue', null, 0],
      ['co2_t', null, 0],
      ['energy_kgce', null, 0],
      ['grid_import_kwh', null, 0],
      ['renewable_share', null, 0],
      ['renewable_share_generation', null, 0],
    ]);
  });

  it('`peakwatch kpi --json` prints the same KPIs from the command line', () => {
    buildDist();
    const day = (offset: number): string => new Date(fromMs + UTC8 + offset * DAY).toISOString().slice(0, 10);
    const run = spawnSync(
      process.execPath,
      [CLI, 'kpi', '--site', 'hd-dc1', '--from', day(0), '--to', day(2), '--json'],
      {
        cwd: ROOT,
        encoding: 'utf8',
        env: childEnv({
          INFLUX_URL: influxd.url,
          INFLUX_DATABASE: 'truth',
          SEEDS_DIR: SEEDS,
          TZ_REPORTING: 'Asia/Shanghai',
        }),
      },
    );
    expect(run.status).toBe(0);
    const printed = JSON.parse(run.stdout) as (KpiValue & { windowStart: string })[];
    const pues = printed.filter((k) => k.kpi === 'pue');
    expect(pues.map((k) => k.windowStartMs)).toEqual([fromMs, fromMs + DAY]);
    pues.forEach((k, i) => {
      const day = truth.sites['hd-dc1']!.days[i]!;
      within(k.value, day.pue!, dayPue(day));
    });
  });

  it('daily CO2 ((imports − exports) × grid factor + gas × gas factor + heat × heat factor) for every site', () => {
    expect(truth.emissionFactors).toMatchObject({
      gridKgCo2PerKwh: { value: factors.gridKgCo2PerKwh },
      gasKgCo2PerM3: { value: factors.gasKgCo2PerM3 },
      heatTCo2PerGj: { value: factors.heatTCo2PerGj },
    });
    for (const site of ['hd-b1', 'hd-b2', 'hd-b3', 'hd-dc1']) {
      truth.sites[site]!.days.forEach((day, i) =>
        within(
          value(site, i, 'co2_t').value,
          day.co2Kg / 1000,
          (GRID_NET[site]! * factors.gridKgCo2PerKwh + (GAS[site] ?? 0) * factors.gasKgCo2PerM3) / 1000 +
            (HEAT[site] ?? 0) * HEAT_T_PER_KWH,
        ),
      );
    }
    // by hand for hd-b3 (no PV): grid import, gas and district heat of the truth at the factors, on a heating day
    const day = truth.sites['hd-b3']!.days[0]!;
    expect(day.purchasedHeatKwh).toBeGreaterThan(1000);
    within(
      value('hd-b3', 0, 'co2_t').value,
      (day.consumptionKwh * 0.5703 + day.gasM3! * 2.162) / 1000 + day.purchasedHeatKwh! * HEAT_T_PER_KWH,
      (GRID_NET['hd-b3']! * 0.5703 + GAS['hd-b3']! * 2.162) / 1000 + HEAT['hd-b3']! * HEAT_T_PER_KWH,
    );
  });

  it('hd-b3: district heat is metered from the heating season, and every site has its comprehensive energy per m²', () => {
    const b3 = truth.sites['hd-b3']!.days;
    // heat on the days of the heating season (to 15 March), none after
    expect(b3.slice(0, 24).every((day) => day.purchasedHeatKwh! > 0)).toBe(true);
    expect(b3.slice(24).every((day) => day.purchasedHeatKwh === 0)).toBe(true);
    for (const site of ['hd-b1', 'hd-b2', 'hd-b3', 'hd-dc1']) {
      const area = { 'hd-b1': 24000, 'hd-b2': 18000, 'hd-b3': 15000, 'hd-dc1': 3000 }[site]!;
      truth.sites[site]!.days.forEach((day, i) => {
        // by hand: electricity consumed at 0.1229, gas at 1.2143 (gas-field gas), heat at 0.122832 kgce/kWh
        const kgce =
          day.consumptionKwh * 0.1229 + (day.gasM3 ?? 0) * 1.2143 + (day.purchasedHeatKwh ?? 0) * 0.122832;
        const tolerance =
          CONSUMPTION[site]! * 0.1229 + (GAS[site] ?? 0) * 1.2143 + (HEAT[site] ?? 0) * 0.122832;
        within(value(site, i, 'energy_kgce').value, kgce, tolerance);
        within(day.energyKgce, kgce, 1e-3);
        if (site !== 'hd-dc1') within(value(site, i, 'energy_kgce_m2').value, kgce / area, tolerance / area);
      });
    }
  });

  it('hd-b1: daily renewable share of the PV consumed on site (electricity only: the same in tce as in kWh)', () => {
    truth.sites['hd-b1']!.days.forEach((day, i) =>
      within(
        value('hd-b1', i, 'renewable_share').value,
        day.renewableShare!,
        ratioTolerance(day.pvKwh!, registerTolerance(), day.consumptionKwh, CONSUMPTION['hd-b1']!),
      ),
    );
  });

  it("hd-b2: daily renewable share counts the heat pumps' ambient heat, Q × (1 − 1/SPF), when SPF > 2.5 (in tce)", () => {
    truth.sites['hd-b2']!.days.forEach((day, i) => {
      // by hand from the truth: each heat pump's daily heat and electricity, the site's electricity and gas
      const ambientKwh = Object.values(day.heatPumps!).reduce((sum, hp) => {
        const spf = hp.heatKwh / hp.electricKwh;
        return sum + (spf > factors.heatPumpMinSpf ? hp.heatKwh * (1 - 1 / spf) : 0);
      }, 0);
      const renewableKgce = ambientKwh * 0.122832;
      const totalKgce = day.consumptionKwh * 0.1229 + (day.gasM3 ?? 0) * 1.2143 + renewableKgce;
      // ambient heat Q − E per heat pump from two registers; the site's electricity and gas
      const renewableTolerance = 2 * registerTolerance() * Object.keys(day.heatPumps!).length * 0.122832;
      const totalTolerance = CONSUMPTION['hd-b2']! * 0.1229 + renewableTolerance;
      if (ambientKwh > 0)
        within(
          value('hd-b2', i, 'renewable_share').value,
          renewableKgce / totalKgce,
          ratioTolerance(renewableKgce, renewableTolerance, totalKgce, totalTolerance),
        );
      else expect(value('hd-b2', i, 'renewable_share').value).toBe(0); // hd-b2 has no PV
    });
    // the period holds both: days of the heating season whose heat pumps reach SPF 2.5 (their ambient heat counts),
    // and days after 15 March without heat
    const days = truth.sites['hd-b2']!.days;
    expect(
      days.some((day) =>
        Object.values(day.heatPumps!).some((hp) => hp.heatKwh / hp.electricKwh > factors.heatPumpMinSpf),
      ),
    ).toBe(true);
    expect(days.filter((day) => Object.values(day.heatPumps!).every((hp) => hp.heatKwh === 0))).toHaveLength(
      DAYS - 24, // 20 February to 15 March are in the season
    );
  });

  it('writes the kpi series to InfluxDB; running the job again changes nothing', async () => {
    const client = await influxd.client('truth');
    const registry = loadRegistry(join(SEEDS, 'sites'));
    const policy = loadPolicyData(SEEDS);
    const job = () =>
      writeKpiSeries({
        influx: client,
        registry,
        policy,
        // the three periods from one read of each site and month
        ranges: {
          '15m': { fromMs, toMs: fromMs + DAYS * DAY },
          '1h': { fromMs, toMs: fromMs + DAYS * DAY },
          '1d': { fromMs, toMs: fromMs + DAYS * DAY },
        },
        utcOffsetMs: UTC8,
      });
    const written = await job();
    // hd-b3 (grid meter only, with the register wrap): its quarters and hours add up to each day's truth
    for (const [period, perDay] of [
      ['15m', 96],
      ['1h', 24],
    ] as const) {
      const [energy] = await client.query(
        `SELECT value FROM kpi WHERE entity = 'hd-b3' AND kpi = 'energy_kwh' AND period = '${period}' AND category !~ /./`,
      );
      expect(energy!.rows).toHaveLength(DAYS * perDay);
      // the quarters' deltas telescope into the day's: one register's resolution
      truth.sites['hd-b3']!.days.forEach((day, i) =>
        within(
          energy!.rows
            .slice(i * perDay, (i + 1) * perDay)
            .reduce((sum, r) => sum + (r['value'] as number), 0),
          day.consumptionKwh,
          CONSUMPTION['hd-b3']!,
        ),
      );
    }
    const read = async () =>
      (
        await client.query(
          `SELECT value, completeness FROM kpi WHERE entity = 'hd-dc1' AND kpi = 'pue' AND period = '1d'`,
        )
      )[0]!.rows;
    const first = await read();
    expect(first.map((r) => r['time'])).toEqual(Array.from({ length: DAYS }, (_, d) => fromMs + d * DAY));
    first.forEach((r, i) => {
      const day = truth.sites['hd-dc1']!.days[i]!;
      within(r['value'] as number, day.pue!, dayPue(day));
    });
    const points = await scalar(client, 'SELECT count(completeness) FROM kpi');
    expect(points).toBe(written);
    // every site is in haidian: the district's and the city's energy are the sum of the sites', each day, and the
    // city's PUE is its one data centre's
    const areaKpi = async (scope: string, kpi: string) =>
      (
        await client.query(
          `SELECT value FROM kpi WHERE scope = '${scope}' AND kpi = '${kpi}' AND period = '1d' AND category !~ /./`,
        )
      )[0]!.rows;
    for (const scope of ['district', 'city']) {
      const energy = await areaKpi(scope, 'energy_kwh');
      expect(energy).toHaveLength(DAYS);
      energy.forEach((r, i) =>
        within(
          r['value'] as number,
          Object.values(truth.sites).reduce((sum, site) => sum + site.days[i]!.consumptionKwh, 0),
          Object.values(CONSUMPTION).reduce((sum, t) => sum + t, 0),
        ),
      );
    }
    (await areaKpi('city', 'pue')).forEach((r, i) => {
      const day = truth.sites['hd-dc1']!.days[i]!;
      within(r['value'] as number, day.pue!, dayPue(day));
    });
    expect(await job()).toBe(written);
    expect(await read()).toEqual(first);
    expect(await scalar(client, 'SELECT count(completeness) FROM kpi')).toBe(points);
  });

  it('hd-dc1: daily PUE as Σ facility ÷ Σ IT (out-of-order IT readings on day 1)', () => {
    truth.sites['hd-dc1']!.days.forEach((day, i) =>
      within(value('hd-dc1', i, 'pue').value, day.pue!, dayPue(day)),
    );
  });

  it('sub-metering categories, across the meter replacement of b1-hvac and the gap of b2-lighting', () => {
    for (const site of ['hd-b1', 'hd-b2', 'hd-b3']) {
      truth.sites[site]!.days.forEach((day, i) => {
        // one meter per category; b1-hvac is replaced on day 1 (its final and start readings as well)
        for (const [category, kwh] of Object.entries(day.categoryKwh!))
          within(
            value(site, i, 'energy_kwh', category).value,
            kwh,
            registerTolerance({ replacements: site === 'hd-b1' && category === 'hvac' && i === 1 ? 1 : 0 }),
          );
      });
    }
    // b2-lighting's gap (day 1, 120 minutes from 09:00) is spread over its span, estimated; day 0 has none
    expect(value('hd-b2', 1, 'energy_kwh', 'lighting_sockets').estimated).toBe(true);
    expect(value('hd-b2', 0, 'energy_kwh', 'lighting_sockets').estimated).toBe(false);
  });

  it('heat-pump COP per day', () => {
    truth.sites['hd-b2']!.days.forEach((day, i) => {
      for (const [device, { cop, heatKwh, electricKwh }] of Object.entries(day.heatPumps!)) {
        const k = value('hd-b2', i, 'cop', device);
        if (cop === null) expect(k.value).toBeNull();
        // the heat and electricity themselves to the registers' resolution, and the ratio from those bounds
        within(k.numerator, heatKwh, registerTolerance());
        within(k.denominator, electricKwh, registerTolerance());
        if (cop !== null)
          within(
            k.value,
            cop,
            ratioTolerance(heatKwh, registerTolerance(), electricKwh, registerTolerance()),
          );
      }
    });
  });

  it('completeness per site and day equals the readings the simulator sent over those expected', () => {
    for (const site of ['hd-b1', 'hd-b2', 'hd-b3', 'hd-dc1']) {
      const meters = Object.entries(truth.devices).filter(
        ([, d]) => d.site === site && Object.keys(d.intervals15m).length > 0,
      );
      [0, 1].forEach((i) => {
        const received = meters.reduce((n, [, d]) => n + d.completeness[i]!.received, 0);
        const expected = meters.reduce((n, [, d]) => n + d.completeness[i]!.expected, 0);
        expect(value(site, i, 'energy_kwh').completeness).toBeCloseTo(received / expected, 9);
      });
    }
    expect(value('hd-b2', 1, 'energy_kwh').completeness).toBeLessThan(1); // the gap and the offline heat pump
  });
});
