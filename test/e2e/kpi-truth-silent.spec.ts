import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KpiCron } from '@peakwatch/analytics';
import { readKpis, type KpiValue } from '@peakwatch/metering';
import { loadScenario, type SilenceTruth, type SiteWindowTruth, type Scenario } from '@peakwatch/device-sim';
import type { InfluxClient } from '@peakwatch/influx';
import { loadPolicyData } from '@peakwatch/policy';
import { loadRegistry } from '@peakwatch/registry';
import type { Report } from '@peakwatch/reporting';
import { Clock } from '@peakwatch/runtime';
import { ROOT, buildDist, runCliJson } from '../support/build';
import { DAY, HOUR, beijingMidnight } from '../support/calendar';
import { startInfluxd, type TestInfluxd } from '../support/influxd';
import { backfill, startIngest, type TestIngest } from '../support/ingest';
import { TRUTH_ROUNDING, expectWithin, ratioTolerance, registerTolerance } from '../support/tolerance';

const SEEDS = join(ROOT, 'seeds');
/** 10 December 2025 to 14 January 2026: the silences cross a day, the end of December and the end of 2025. */
const FROM = beijingMidnight('2025-12-10');
const DAYS = 35;
const TO = FROM + DAYS * DAY;
const QUARTER = 15 * 60_000;

type Silence = SilenceTruth;
interface DeviceTruth {
  site: string;
  role: string;
  intervals15m: Record<string, [number, number][]>;
  completeness: { day: string; expected: number; received: number }[];
  silences: Silence[];
}
type WindowTruth = SiteWindowTruth;
interface Truth {
  emissionFactors: {
    gridKgCo2PerKwh: { value: number };
    gasKgCo2PerM3: { value: number };
    heatTCo2PerGj: { value: number };
  };
  renewableAccounting: Scenario['renewableAccounting'];
  sites: Record<
    string,
    { floorAreaM2: number; days: WindowTruth[]; months: WindowTruth[]; years: WindowTruth[] }
  >;
  devices: Record<string, DeviceTruth>;
}

/**
 * The simulator's ground truth as the oracle of every KPI the product writes, through the whole path (MQTT → ingest →
 * InfluxDB → the scheduled KPI job → the stored series, the `kpi` command and the report), for 35 days of the sample
 * campus whose meters go silent (seeds/scenarios/haidian-silent.yaml): the IT meter for a whole day, an office's supply
 * meter for an hour and from 22:00 on 31 December 2025 to 01:00 on 1 January 2026, import and export registers across
 * a midnight, a sub-meter for a whole day, and 5% of the facility meter's readings lost.
 *
 * Tolerances come from the simulator, not from the product: one register's resolution per register read (docs/testing.md,
 * "Tolerances"), and, in a window a silence overlaps by o of its span s, the most any spreading by time can misplace,
 * o (s − o) / s × (the true power's range over the silence), from the ground truth's `silences`.
 */
describe('every KPI of 35 days equals the ground truth when meters go silent', () => {
  let influxd: TestInfluxd;
  let ingest: TestIngest;
  let influx: InfluxClient;
  let truth: Truth;
  let dataDir: string;
  const registry = loadRegistry(join(SEEDS, 'sites'));
  const stored = new Map<string, KpiValue[]>();

  beforeAll(async () => {
    buildDist();
    dataDir = await mkdtemp(join(tmpdir(), 'peakwatch-silent-truth-'));
    influxd = await startInfluxd();
    const clock = Clock.startingAt(TO + HOUR);
    ingest = await startIngest(influxd, 'silent_truth', { INGEST_HORIZON_DAYS: '40' }, clock);
    influx = await influxd.client('silent_truth');
    truth = (await backfill({
      scenario: loadScenario(join(SEEDS, 'scenarios/haidian-silent.yaml')),
      seed: 5,
      fromMs: FROM,
      toMs: TO,
      brokerUrl: ingest.mqttUrl,
      credentials: await ingest.secrets(),
      httpPort: ingest.config.http.port,
      clock,
    })) as Truth;
    // the KPI job as scheduled, as of the end of the run: every window the (late) readings fall in
    const job = new KpiCron(ingest.config, influx, registry, loadPolicyData(SEEDS));
    await job.runOnce(TO);
    for (const period of ['1d', '1mo', '1y', 'rolling_12mo'])
      stored.set(
        period,
        await readKpis(influx, { scope: 'site', period: period as '1d', fromMs: 0, toMs: TO }),
      );
  });
  afterAll(async () => {
    await ingest?.close();
    await influxd?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const SITES = ['hd-b1', 'hd-b2', 'hd-b3', 'hd-dc1'];
  const windowStart = (label: string): number =>
    beijingMidnight(label.length === 10 ? label : label.length === 7 ? `${label}-01` : `${label}-01-01`);
  const windowEnd = (label: string): number => {
    if (label.length === 10) return windowStart(label) + DAY;
    const d = new Date(windowStart(label) + 8 * HOUR);
    const next =
      label.length === 7
        ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)
        : Date.UTC(d.getUTCFullYear() + 1, 0, 1);
    return next - 8 * HOUR;
  };
  const stat = (period: string, site: string, kpi: string, label: string, category?: string): KpiValue => {
    const found = stored
      .get(period)!
      .find(
        (k) =>
          (k as KpiValue & { entity: string }).entity === site &&
          k.kpi === kpi &&
          k.category === category &&
          k.windowStartMs === windowStart(label),
      );
    if (!found) throw new Error(`no ${period} ${kpi}/${category ?? ''} of ${site} for ${label}`);
    return found;
  };
  const devicesOf = (site: string, roles: string[]) =>
    Object.entries(truth.devices).filter(([, d]) => d.site === site && roles.includes(d.role));
  const silencesIn = (device: string, fromMs: number, toMs: number): Silence[] =>
    truth.devices[device]!.silences.filter((s) => s.fromMs < toMs && s.toMs > fromMs);
  /** What a register's energy over [fromMs, toMs) may differ from the truth: resolution, and spreading. */
  const energyTolerance = (device: string, metric: string, fromMs: number, toMs: number): number => {
    let tolerance = registerTolerance({ ctRatio: registry.device(device)!.device.ctRatio ?? 1 });
    for (const s of silencesIn(device, fromMs, toMs)) {
      const span = (s.toMs - s.fromMs) / HOUR;
      const overlap = (Math.min(s.toMs, toMs) - Math.max(s.fromMs, fromMs)) / HOUR;
      const range = s.powerKw[metric] ?? { min: 0, max: 0 };
      tolerance += ((overlap * (span - overlap)) / span) * (range.max - range.min);
    }
    return tolerance;
  };
  /** The same over the registers of `roles` at a site (those that have the metric). */
  const rolesTolerance = (
    site: string,
    roles: string[],
    metric: string,
    fromMs: number,
    toMs: number,
  ): number =>
    devicesOf(site, roles)
      .filter(([, d]) => d.intervals15m[metric])
      .reduce((t, [id]) => t + energyTolerance(id, metric, fromMs, toMs), 0);
  const consumptionTolerance = (site: string, fromMs: number, toMs: number): number =>
    site === 'hd-dc1'
      ? rolesTolerance(site, ['dc_total'], 'energy_import_kwh', fromMs, toMs)
      : rolesTolerance(site, ['grid'], 'energy_import_kwh', fromMs, toMs) +
        rolesTolerance(site, ['grid'], 'energy_export_kwh', fromMs, toMs) +
        rolesTolerance(site, ['pv'], 'energy_export_kwh', fromMs, toMs);
  /** CO2 (t) to the registers' resolution: the grid's net purchase, gas, district heat (kWh × 3.6 MJ × tCO2/GJ). */
  const co2Tolerance = (site: string, fromMs: number, toMs: number): number =>
    ((site === 'hd-dc1'
      ? consumptionTolerance(site, fromMs, toMs)
      : rolesTolerance(site, ['grid'], 'energy_import_kwh', fromMs, toMs) +
        rolesTolerance(site, ['grid'], 'energy_export_kwh', fromMs, toMs)) *
      truth.emissionFactors.gridKgCo2PerKwh.value +
      rolesTolerance(site, ['gas'], 'gas_m3', fromMs, toMs) * truth.emissionFactors.gasKgCo2PerM3.value) /
      1000 +
    rolesTolerance(site, ['heat_purchased'], 'heat_kwh', fromMs, toMs) *
      0.0036 *
      truth.emissionFactors.heatTCo2PerGj.value;
  const eachDay = (site: string, check: (day: WindowTruth, fromMs: number, toMs: number) => void) => {
    const days = truth.sites[site]!.days;
    expect(days).toHaveLength(DAYS);
    for (const day of days) check(day, windowStart(day.window), windowEnd(day.window));
  };

  it('the scenario holds a silence of each kind, across a day, the month and the year', () => {
    const spans = (device: string) => truth.devices[device]!.silences.map((s) => [s.fromMs, s.toMs]);
    expect(spans('dc1-it')).toEqual([
      [beijingMidnight('2025-12-15') - 5 * 60_000, beijingMidnight('2025-12-16')],
    ]);
    expect(spans('b3-grid')).toEqual([
      [beijingMidnight('2025-12-16') + 10 * HOUR, beijingMidnight('2025-12-16') + 11 * HOUR],
      [beijingMidnight('2026-01-01') - 2 * HOUR, beijingMidnight('2026-01-01') + HOUR],
    ]);
    expect(spans('b1-grid')).toEqual([
      [beijingMidnight('2025-12-21') - HOUR, beijingMidnight('2025-12-21') + HOUR],
    ]);
    // the facility meter lost about 5% of its 10,080 readings
    expect(truth.devices['dc1-total']!.silences.length).toBeGreaterThan(300);
  });

  it.each(SITES)('%s: daily energy, EUI and CO2 equal the truth, silent days too', (site) => {
    const area = truth.sites[site]!.floorAreaM2;
    eachDay(site, (day, from, to) => {
      const tolerance = consumptionTolerance(site, from, to);
      expectWithin(stat('1d', site, 'energy_kwh', day.window).value, day.consumptionKwh, tolerance);
      // (a data centre is judged by its PUE: the product writes no EUI for it)
      if (site !== 'hd-dc1')
        expectWithin(stat('1d', site, 'eui_kwh_m2', day.window).value, day.euiKwhPerM2, tolerance / area);
      expectWithin(
        stat('1d', site, 'co2_t', day.window).value,
        day.co2Kg / 1000,
        co2Tolerance(site, from, to),
      );
    });
  });

  it.each(SITES)(
    '%s: a day is estimated exactly when a silence of its supply overlaps it, with the share the silence can hold',
    (site) => {
      const supply = devicesOf(site, site === 'hd-dc1' ? ['dc_total'] : ['grid', 'pv']);
      let estimatedDays = 0;
      eachDay(site, (day, from, to) => {
        const k = stat('1d', site, 'energy_kwh', day.window);
        const silences = supply.flatMap(([id]) => silencesIn(id, from, to).map((s) => ({ id, s })));
        expect(k.estimated).toBe(silences.length > 0);
        if (!k.estimated) return expect(k.estimatedShare).toBe(0);
        estimatedDays++;
        // the energy spread into the day lies between the silences' least and greatest true power over their overlap
        const bound = (pick: 'min' | 'max') =>
          silences.reduce((e, { id, s }) => {
            const overlap = (Math.min(s.toMs, to) - Math.max(s.fromMs, from)) / HOUR;
            const metrics = Object.keys(truth.devices[id]!.intervals15m);
            return e + metrics.reduce((m, metric) => m + overlap * (s.powerKw[metric]?.[pick] ?? 0), 0);
          }, 0);
        const flows = consumptionTolerance(site, from, to);
        expect(k.estimatedShare * k.value!).toBeGreaterThanOrEqual(bound('min') - flows);
        expect(k.estimatedShare * k.value!).toBeLessThanOrEqual(bound('max') + flows);
      });
      // hd-b2's supply meter is never silent (its sub-meter is)
      expect(estimatedDays > 0).toBe(site !== 'hd-b2');
    },
  );

  it.each(['hd-b1', 'hd-b2', 'hd-b3'])('%s: daily energy of each sub-metering category', (site) => {
    eachDay(site, (day, from, to) => {
      for (const [category, kwh] of Object.entries(day.categoryKwh!))
        expectWithin(
          stat('1d', site, 'energy_kwh', day.window, category).value,
          kwh,
          rolesTolerance(site, [category], 'energy_import_kwh', from, to),
        );
    });
  });

  it('hd-dc1: daily PUE as Σ facility ÷ Σ IT, the IT meter silent a whole day and the facility meter lossy', () => {
    eachDay('hd-dc1', (day, from, to) => {
      const facility = day.consumptionKwh;
      const it = facility / day.pue!;
      const k = stat('1d', 'hd-dc1', 'pue', day.window);
      expectWithin(
        k.value,
        day.pue!,
        ratioTolerance(
          facility,
          energyTolerance('dc1-total', 'energy_import_kwh', from, to),
          it,
          energyTolerance('dc1-it', 'energy_import_kwh', from, to),
        ),
      );
    });
    // the silent day is estimated, all of its IT energy spread
    expect(stat('1d', 'hd-dc1', 'pue', '2025-12-15').estimatedShare).toBeCloseTo(1, 2);
  });

  it.each(SITES)('%s: daily peak demand of measured quarters only, and the PV yield', (site) => {
    const [[supply, device]] = devicesOf(site, site === 'hd-dc1' ? ['dc_total'] : ['grid']) as [
      [string, DeviceTruth],
    ];
    const ct = registry.device(supply)!.device.ctRatio ?? 1;
    eachDay(site, (day, from, to) => {
      // by hand from the truth: 4 × the largest energy of the day's quarters that no silence of the meter touches
      const measured = device.intervals15m['energy_import_kwh']!.filter(
        ([t]) => t >= from && t < to && silencesIn(supply, t, t + QUARTER).length === 0,
      ).map(([, kwh]) => kwh);
      const k = stat('1d', site, 'peak_demand_kw', day.window);
      expectWithin(k.value, 4 * Math.max(...measured), 4 * registerTolerance({ ctRatio: ct }));
      expect(k.estimated).toBe(silencesIn(supply, from, to).length > 0);
      expect(4 * Math.max(...measured)).toBeLessThanOrEqual(day.peakDemandKw! + 8 * TRUTH_ROUNDING);
      if (site === 'hd-b1')
        expectWithin(
          stat('1d', site, 'pv_yield_kwh_kwp', day.window).value,
          day.pvYieldKwhPerKwp!,
          energyTolerance('b1-pv', 'energy_export_kwh', from, to) / 300,
        );
    });
  });

  /** The two coal equivalents of electricity: the calorific one, and the generation method the targets count by. */
  const METHODS = [
    ['renewable_share', 'renewableShareTce', 'electricityKgcePerKwh'],
    ['renewable_share_generation', 'renewableShareGenerationTce', 'electricityKgcePerKwhGeneration'],
  ] as const;
  it.each(SITES.flatMap((site) => METHODS.map((m) => [site, ...m] as const)))(
    '%s: daily %s in tce (PV consumed on site, heat pumps over the minimum SPF)',
    (site, kpi, field, coefficient) => {
      const r = truth.renewableAccounting;
      const kgcePerKwh = r[coefficient];
      let judged = 0;
      eachDay(site, (day, from, to) => {
        const k = stat('1d', site, kpi, day.window);
        const hps = Object.entries(day.heatPumps ?? {});
        // ambient heat of a heat pump whose SPF lies within its registers' resolution of the minimum may fall either side
        const copTolerance = (hp: { heatKwh: number; electricKwh: number }) =>
          ratioTolerance(hp.heatKwh, registerTolerance(), hp.electricKwh, registerTolerance());
        if (hps.some(([, hp]) => hp.cop !== null && Math.abs(hp.cop - r.heatPumpMinSpf) <= copTolerance(hp)))
          return;
        judged++;
        const heatTolerance = hps.length * 2 * registerTolerance() * r.heatKgcePerKwh;
        const renewableTolerance =
          (rolesTolerance(site, ['pv'], 'energy_export_kwh', from, to) +
            rolesTolerance(site, ['grid'], 'energy_export_kwh', from, to)) *
            kgcePerKwh +
          heatTolerance;
        const totalTolerance =
          consumptionTolerance(site, from, to) * kgcePerKwh +
          rolesTolerance(site, ['gas'], 'gas_m3', from, to) * r.gasKgcePerM3 +
          rolesTolerance(site, ['heat_purchased'], 'heat_kwh', from, to) * r.heatKgcePerKwh +
          heatTolerance;
        const totalKgce = k.denominator * 1000;
        const expected = day[field]!;
        expectWithin(
          k.value,
          expected,
          ratioTolerance(expected * totalKgce, renewableTolerance, totalKgce, totalTolerance),
        );
      });
      expect(judged).toBeGreaterThan(DAYS - 3);
    },
  );

  it("hd-b2: each season's heat pumps (a year, a rolling 12 months) are credited by its SPF, and the share with them", () => {
    const r = truth.renewableAccounting;
    let differs = 0;
    let sharesDiffer = 0;
    for (const year of truth.sites['hd-b2']!.years) {
      const [from, to] = [Math.max(FROM, windowStart(year.window)), Math.min(TO, windowEnd(year.window))];
      const days = truth.sites['hd-b2']!.days.filter((d) => d.window.startsWith(year.window));
      let heatTolerance = 0;
      for (const [id, hp] of Object.entries(year.heatPumps!)) {
        // Q and W of the year, each to its registers' resolution: so is Q − W, the credit
        const tolerance = 2 * registerTolerance();
        heatTolerance += tolerance * r.heatKgcePerKwh;
        expect(Math.abs(hp.cop! - r.heatPumpMinSpf)).toBeGreaterThan(
          ratioTolerance(hp.heatKwh, registerTolerance(), hp.electricKwh, registerTolerance()),
        );
        expectWithin(
          stat('1y', 'hd-b2', 'heat_pump_renewable_kwh', year.window, id).value,
          hp.renewableKwh,
          tolerance,
        );
        // judged day by day, the same heat would have been credited differently: the season is what decides
        const dayByDay = days.reduce((sum, d) => sum + d.heatPumps![id]!.renewableKwh, 0);
        if (Math.abs(dayByDay - hp.renewableKwh) > days.length * tolerance) differs++;
      }
      const renewableTolerance =
        (rolesTolerance('hd-b2', ['pv'], 'energy_export_kwh', from, to) +
          rolesTolerance('hd-b2', ['grid'], 'energy_export_kwh', from, to)) *
          r.electricityKgcePerKwh +
        heatTolerance;
      const totalTolerance =
        consumptionTolerance('hd-b2', from, to) * r.electricityKgcePerKwh +
        rolesTolerance('hd-b2', ['gas'], 'gas_m3', from, to) * r.gasKgcePerM3 +
        heatTolerance;
      const k = stat('1y', 'hd-b2', 'renewable_share', year.window);
      const totalKgce = k.denominator * 1000;
      const tolerance = ratioTolerance(
        year.renewableShareTce! * totalKgce,
        renewableTolerance,
        totalKgce,
        totalTolerance,
      );
      expectWithin(k.value, year.renewableShareTce!, tolerance);
      // the share the days' credits would have given, in both its renewable and its total energy: out of tolerance
      const dayByDayKgce = Object.keys(year.heatPumps!).reduce(
        (sum, id) =>
          sum +
          (days.reduce((s, d) => s + d.heatPumps![id]!.renewableKwh, 0) - year.heatPumps![id]!.renewableKwh) *
            r.heatKgcePerKwh,
        0,
      );
      const dayByDayShare = (year.renewableShareTce! * totalKgce + dayByDayKgce) / (totalKgce + dayByDayKgce);
      if (Math.abs(dayByDayShare - year.renewableShareTce!) > tolerance) sharesDiffer++;
    }
    expect(differs).toBeGreaterThan(0);
    expect(sharesDiffer).toBeGreaterThan(0);
    // the rolling 12 months from February 2025 hold the whole run: a season too, credited by its own SPF
    const days = truth.sites['hd-b2']!.days;
    for (const id of Object.keys(days[0]!.heatPumps!)) {
      const q = days.reduce((sum, d) => sum + d.heatPumps![id]!.heatKwh, 0);
      const w = days.reduce((sum, d) => sum + d.heatPumps![id]!.electricKwh, 0);
      expect(Math.abs(q / w - r.heatPumpMinSpf)).toBeGreaterThan(
        ratioTolerance(q, registerTolerance(), w, registerTolerance()),
      );
      expectWithin(
        stat('rolling_12mo', 'hd-b2', 'heat_pump_renewable_kwh', '2025-02', id).value,
        q / w > r.heatPumpMinSpf ? q - w : 0,
        2 * registerTolerance(),
      );
    }
  });

  it('hd-b2: daily COP of each heat pump', () => {
    eachDay('hd-b2', (day) => {
      for (const [id, hp] of Object.entries(day.heatPumps!)) {
        const k = stat('1d', 'hd-b2', 'cop', day.window, id);
        expectWithin(k.numerator, hp.heatKwh, registerTolerance());
        expectWithin(k.denominator, hp.electricKwh, registerTolerance());
        if (hp.cop !== null)
          expectWithin(
            k.value,
            hp.cop,
            ratioTolerance(hp.heatKwh, registerTolerance(), hp.electricKwh, registerTolerance()),
          );
      }
    });
  });

  it.each(SITES)(
    "%s: completeness of the site and of each meter, a sub-meter's silent day counted as 0",
    (site) => {
      eachDay(site, (day) => {
        expect(stat('1d', site, 'energy_kwh', day.window).completeness).toBeCloseTo(day.completeness, 5);
        for (const [id, device] of Object.entries(truth.devices).filter(
          ([, d]) => d.site === site && d.role !== 'weather',
        )) {
          const own = device.completeness.find((c) => c.day === day.window)!;
          const k = stat('1d', site, 'meter_completeness', day.window, id);
          expect([k.numerator, k.denominator]).toEqual([own.received, own.expected]);
        }
      });
      if (site === 'hd-b2')
        expect(stat('1d', site, 'meter_completeness', '2026-01-05', 'b2-lighting').value).toBe(0);
    },
  );

  it.each(SITES)('%s: the months either side of the new year, energy, CO2 and PUE', (site) => {
    for (const month of truth.sites[site]!.months) {
      const [from, to] = [windowStart(month.window), windowEnd(month.window)];
      expectWithin(
        stat('1mo', site, 'energy_kwh', month.window).value,
        month.consumptionKwh,
        consumptionTolerance(site, from, to),
      );
      expectWithin(
        stat('1mo', site, 'co2_t', month.window).value,
        month.co2Kg / 1000,
        co2Tolerance(site, from, to),
      );
      if (site === 'hd-dc1')
        expectWithin(
          stat('1mo', site, 'pue', month.window).value,
          month.pue!,
          ratioTolerance(
            month.consumptionKwh,
            energyTolerance('dc1-total', 'energy_import_kwh', from, to),
            month.consumptionKwh / month.pue!,
            energyTolerance('dc1-it', 'energy_import_kwh', from, to),
          ),
        );
    }
    expect(truth.sites[site]!.months.map((m) => m.window)).toEqual(['2025-12', '2026-01']);
  });

  it('gives the months and years of the data centre, with nothing renewable metered or declared, no renewable share', () => {
    const windows = [...truth.sites['hd-dc1']!.months, ...truth.sites['hd-dc1']!.years];
    expect(windows.map((w) => w.window)).toEqual(['2025-12', '2026-01', '2025', '2026']);
    for (const w of windows) {
      expect(w.renewableShareTce).toBeNull();
      for (const kpi of ['renewable_share', 'renewable_share_generation'])
        expect(stat(w.window.length === 4 ? '1y' : '1mo', 'hd-dc1', kpi, w.window)).toMatchObject({
          undeclared: true,
        });
    }
    // its days have a share, of 0
    expect(truth.sites['hd-dc1']!.days.every((d) => d.renewableShareTce === 0)).toBe(true);
  });

  it('reductions and quota use: 2025 closed, not projected; 2026 too young to project (a tenth of it not elapsed)', () => {
    for (const site of ['hd-b1', 'hd-b2']) {
      const [closed, current] = truth.sites[site]!.years as [WindowTruth, WindowTruth];
      const site_ = registry.site(site)!;
      const [from, to] = [windowStart('2025'), windowEnd('2025')];
      const energyTolerance = consumptionTolerance(site, from, to) / site_.floorAreaM2;
      const energy = stat('1y', site, 'energy_reduction', '2025');
      expectWithin(energy.value, closed.energyReduction!, energyTolerance / site_.baseline!.energyKwhPerM2!);
      expect(energy.elapsed).toBeUndefined(); // not a projection
      // at the baseline year's grid factor (2020: the first seeded, 2021's 0.5568), not 2025's 0.5306
      expect(truth.emissionFactors.gridKgCo2PerKwh.value).toBe(0.5306);
      const carbon = stat('1y', site, 'co2_reduction', '2025');
      expectWithin(
        carbon.value,
        closed.co2Reduction!,
        (((co2Tolerance(site, from, to) * 1000) / site_.floorAreaM2) * (0.5568 / 0.5306)) /
          site_.baseline!.carbonKgPerM2!,
      );
      // comprehensive energy per m² (kgce) against its baseline: the Haidian target's basis
      const kgce = stat('1y', site, 'energy_kgce_reduction', '2025');
      expectWithin(
        kgce.value,
        closed.energyKgceReduction!,
        (energyTolerance * 0.1229) / site_.baseline!.energyKgcePerM2!,
      );
      // 2026: 13 days of 365 elapsed at the end of the run, no projection yet, and saying how far the year is
      expect(current.energyReduction).toBeNull();
      const young = stat('1y', site, 'energy_reduction', '2026');
      expect(young.value).toBeNull();
      expect(young.estimated).toBe(true);
      expect(young.elapsed).toBeCloseTo(current.elapsed!, 6);
    }
    // hd-b3: comprehensive energy over electricity, the canteen's gas and district heat, each at its coal equivalent
    const [b3] = truth.sites['hd-b3']!.years as [WindowTruth];
    expect(b3.purchasedHeatKwh).toBeGreaterThan(0);
    expect(b3.gasM3).toBeGreaterThan(0);
    const [from, to] = [windowStart('2025'), windowEnd('2025')];
    const r = truth.renewableAccounting;
    const b3Tolerance =
      consumptionTolerance('hd-b3', from, to) * r.electricityKgcePerKwh +
      rolesTolerance('hd-b3', ['gas'], 'gas_m3', from, to) * r.gasKgcePerM3 +
      rolesTolerance('hd-b3', ['heat_purchased'], 'heat_kwh', from, to) * r.heatKgcePerKwh;
    const b3Site = registry.site('hd-b3')!;
    expectWithin(
      stat('1y', 'hd-b3', 'energy_kgce_reduction', '2025').value,
      b3.energyKgceReduction!,
      b3Tolerance / b3Site.floorAreaM2 / b3Site.baseline!.energyKgcePerM2!,
    );
    const quota = stat('1y', 'hd-b1', 'quota_use', '2025');
    const [closed] = truth.sites['hd-b1']!.years as [WindowTruth];
    expectWithin(
      quota.value,
      closed.quotaUse!,
      consumptionTolerance('hd-b1', windowStart('2025'), windowEnd('2025')) / 2_000_000,
    );
  });

  it('`peakwatch kpi` prints the days across the new year as the job stored them', () => {
    const run = runCliJson<KpiValue[]>(
      ['kpi', '--site', 'hd-b3', '--from', '2025-12-31', '--to', '2026-01-02', '--json'],
      { INFLUX_URL: influxd.url, INFLUX_DATABASE: 'silent_truth', SEEDS_DIR: SEEDS },
    );
    expect(run.stderr).toBe('');
    const printed = run.json.filter((k) => k.kpi === 'energy_kwh' && !k.category);
    expect(printed.map((k) => k.windowStartMs)).toEqual([
      windowStart('2025-12-31'),
      windowStart('2026-01-01'),
    ]);
    for (const k of printed) {
      const day = truth.sites['hd-b3']!.days.find((d) => windowStart(d.window) === k.windowStartMs)!;
      expectWithin(
        k.value,
        day.consumptionKwh,
        consumptionTolerance('hd-b3', k.windowStartMs, k.windowStartMs + DAY),
      );
    }
  });

  it("files December's and January's reports with the campus's grid electricity of each month", () => {
    for (const month of ['2025-12', '2026-01']) {
      const run = runCliJson<Report>(['report', '--org', 'hd-tech-campus', '--month', month, '--json'], {
        INFLUX_URL: influxd.url,
        INFLUX_DATABASE: 'silent_truth',
        SEEDS_DIR: SEEDS,
        DATA_DIR: dataDir,
      });
      expect(run.status).toBe(0);
      const report = run.json;
      const [from, to] = [windowStart(month), windowEnd(month)];
      // by hand from the truth: the offices' grid imports and the data centre's facility meter
      const gridKwh = SITES.reduce(
        (sum, site) => sum + truth.sites[site]!.months.find((m) => m.window === month)!.gridImportKwh,
        0,
      );
      const tolerance = SITES.reduce(
        (t, site) => t + rolesTolerance(site, ['grid', 'dc_total'], 'energy_import_kwh', from, to) + 0.0005,
        0,
      );
      expectWithin(
        report.energy.carriers.find((c) => c.carrier === 'grid_electricity')!.quantity,
        gridKwh,
        tolerance,
      );
    }
  });
});
