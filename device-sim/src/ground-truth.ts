import type { Site } from '@peakwatch/registry';
import type { Scenario } from './scenario';
import { localDayStart } from './models/clock';

/** Version of the ground-truth file format (documented in device-sim/README.md). */
export const GROUND_TRUTH_FORMAT = 'peakwatch-ground-truth/2';

const QUARTER_MS = 900_000;

export interface FaultRecord {
  type: string;
  device: string;
  at: string;
  until?: string;
  detail?: Record<string, number | string>;
}

export interface SiteWindowTruth {
  /** The window: a local date YYYY-MM-DD, a month YYYY-MM, a year YYYY, or "total" for the whole run. */
  window: string;
  /** Readings received over expected, over every meter of the site (not the weather station). */
  completeness: number;
  /** 4 × the largest 15-minute energy of the site's supply meter (grid or facility), where it has exactly one. */
  peakDemandKw?: number | null;
  /** PV final yield: the PV's energy over its kWp. */
  pvYieldKwhPerKwp?: number | null;
  consumptionKwh: number;
  gridImportKwh: number;
  gridExportKwh?: number;
  pvKwh?: number;
  pvSelfConsumedKwh?: number;
  renewableShare?: number | null;
  categoryKwh?: Record<string, number>;
  euiKwhPerM2: number;
  co2Kg: number;
  gasM3?: number;
  /** Heat bought from a district network (its heat meters), kWh. */
  purchasedHeatKwh?: number;
  /** Comprehensive energy: electricity consumed, gas and purchased heat at the calorific coal equivalents, kgce. */
  energyKgce: number;
  energyKgcePerM2: number;
  itKwh?: number;
  pue?: number | null;
  /** Per heat pump: heat, electricity, their ratio, and the ambient heat credited as renewable. */
  heatPumps?: Record<
    string,
    { heatKwh: number; electricKwh: number; cop: number | null; renewableKwh: number }
  >;
  /** Renewable share in tce (the scenario's renewableAccounting): PV consumed on site and heat pumps' ambient heat. */
  renewableShareTce: number | null;
  /** The same with electricity at the generation method's coal equivalent. */
  renewableShareGenerationTce: number | null;
  /** Years only, as of the end of the run: the share of the year elapsed, and the projections from it. */
  elapsed?: number;
  energyReduction?: number | null;
  energyKgceReduction?: number | null;
  co2Reduction?: number | null;
  quotaUse?: number | null;
}

/**
 * A span between two readings a device sent further apart than 1.5 intervals: its true power's range over the span
 * (kW, per register metric) bounds what any spreading of the span's energy by time can get wrong in a window.
 */
export interface SilenceTruth {
  from: string;
  to: string;
  fromMs: number;
  toMs: number;
  powerKw: Record<string, { min: number; max: number }>;
}

/** Below this share of a year elapsed, no projection to the year's end is made (the product's documented rule). */
const MIN_ELAPSED_SHARE = 0.1;

type MetricSums = Record<string, number>;

/** Rounds for a stable, compact file: 6 decimals are far below any meter's resolution. */
const r6 = (x: number): number => Math.round(x * 1e6) / 1e6;

/**
 * Collects what the simulator generated, from the true (unfaulted, unrounded) rates: the oracle of the end-to-end
 * tests. Writing it gives the same bytes for the same scenario, seed and window.
 */
export class GroundTruthBuilder {
  private readonly quarters = new Map<string, Map<string, Map<number, number>>>();
  private readonly days = new Map<string, Map<number, MetricSums>>();
  private readonly readings = new Map<string, [number, number][]>();
  private readonly duplicates = new Map<string, number[]>();
  private readonly expected = new Map<string, Map<number, number>>();
  private readonly sent = new Map<string, Map<number, number>>();
  private readonly malformed = new Map<string, number>();
  private readonly events = new Map<string, number>();
  /** Per device and metric, the amount of each step of the run (by step index). */
  private readonly steps = new Map<string, Map<string, number[]>>();
  /** Per site and quarter hour, the grid imports a demand-response event saved (kWh). */
  private readonly drReductions = new Map<string, Map<number, number>>();
  /** Per site and quarter hour, what a price response drew less (in the peak bands) or more (in the valley), kWh. */
  private readonly priceShifts = new Map<string, Map<number, number>>();
  /** Per device, the true times of the readings it sent (not duplicates). */
  private readonly sentTimes = new Map<string, number[]>();
  readonly faults: FaultRecord[] = [];

  constructor(
    private readonly scenario: Scenario,
    private readonly seed: number,
    private readonly fromMs: number,
  ) {}

  /** Adds the energy (or volume) a device's metric carried over one step. */
  addAmount(deviceId: string, metric: string, tsMs: number, amount: number): void {
    const byMetric = getOrSet(this.quarters, deviceId, () => new Map<string, Map<number, number>>());
    const byQuarter = getOrSet(byMetric, metric, () => new Map<number, number>());
    const quarter = Math.floor(tsMs / QUARTER_MS) * QUARTER_MS;
    byQuarter.set(quarter, (byQuarter.get(quarter) ?? 0) + amount);
    const day = localDayStart(tsMs, this.scenario.location.utcOffsetHours);
    const daySums = getOrSet(
      getOrSet(this.days, deviceId, () => new Map<number, MetricSums>()),
      day,
      (): MetricSums => ({}),
    );
    daySums[metric] = (daySums[metric] ?? 0) + amount;
    const steps = getOrSet(
      getOrSet(this.steps, deviceId, () => new Map<string, number[]>()),
      metric,
      () => [],
    );
    steps[Math.round((tsMs - this.fromMs) / this.stepMs)] = amount;
  }

  /** Adds what a site's grid imports were reduced by over one step of a demand-response event (kWh). */
  addDrReduction(siteId: string, tsMs: number, kwh: number): void {
    addToQuarter(this.drReductions, siteId, tsMs, kwh);
  }

  /** Adds what a price response reduced a site's grid imports by over one step (kWh; negative: increased). */
  addPriceShift(siteId: string, tsMs: number, kwh: number): void {
    addToQuarter(this.priceShifts, siteId, tsMs, kwh);
  }

  private get stepMs(): number {
    return this.scenario.intervalSeconds * 1000;
  }

  expectReading(deviceId: string, tsMs: number): void {
    const day = localDayStart(tsMs, this.scenario.location.utcOffsetHours);
    const perDay = getOrSet(this.expected, deviceId, () => new Map<number, number>());
    perDay.set(day, (perDay.get(day) ?? 0) + 1);
  }

  readingSent(deviceId: string, seq: number, publishedTs: number, trueTs: number, duplicate: boolean): void {
    if (duplicate) {
      getOrSet(this.duplicates, deviceId, () => []).push(seq);
      return;
    }
    getOrSet(this.readings, deviceId, () => []).push([seq, publishedTs]);
    getOrSet(this.sentTimes, deviceId, () => []).push(trueTs);
    const day = localDayStart(trueTs, this.scenario.location.utcOffsetHours);
    const perDay = getOrSet(this.sent, deviceId, () => new Map<number, number>());
    perDay.set(day, (perDay.get(day) ?? 0) + 1);
  }

  malformedSent(deviceId: string): void {
    this.malformed.set(deviceId, (this.malformed.get(deviceId) ?? 0) + 1);
  }

  eventSent(deviceId: string): void {
    this.events.set(deviceId, (this.events.get(deviceId) ?? 0) + 1);
  }

  fault(record: FaultRecord): void {
    this.faults.push(record);
  }

  /** The ground-truth document for the run [fromMs, toMs]; projections of a year not over are made as of toMs. */
  build(toMs: number): object {
    const { scenario } = this;
    const devices: Record<string, object> = {};
    for (const site of scenario.sites) {
      for (const device of site.devices) {
        const byMetric = this.quarters.get(device.id);
        const expectedDays = this.expected.get(device.id) ?? new Map<number, number>();
        const sentDays = this.sent.get(device.id) ?? new Map<number, number>();
        devices[device.id] = {
          site: site.id,
          kind: device.kind,
          role: device.role,
          intervals15m: Object.fromEntries(
            [...(byMetric ?? new Map<string, Map<number, number>>())].map(([metric, quarters]) => [
              metric,
              [...quarters].sort((a, b) => a[0] - b[0]).map(([t, v]) => [t, r6(v)]),
            ]),
          ),
          completeness: [...expectedDays]
            .sort((a, b) => a[0] - b[0])
            .map(([day, n]) => ({ day: this.dayLabel(day), expected: n, received: sentDays.get(day) ?? 0 })),
          silences: this.silences(device.id),
          messages: {
            readings: this.readings.get(device.id) ?? [],
            duplicates: this.duplicates.get(device.id) ?? [],
            events: this.events.get(device.id) ?? 0,
            malformed: this.malformed.get(device.id) ?? 0,
          },
        };
      }
    }
    const sites: Record<string, object> = {};
    for (const site of scenario.sites) {
      const dayKeys = new Set<number>();
      for (const device of site.devices)
        for (const day of this.days.get(device.id)?.keys() ?? []) dayKeys.add(day);
      const days = [...dayKeys].sort((a, b) => a - b);
      /** The windows whose label (YYYY-MM-DD, YYYY-MM, YYYY) is the first `length` characters of their days'. */
      const windows = (length: number): SiteWindowTruth[] => {
        const groups = new Map<string, number[]>();
        for (const day of days) getOrSet(groups, this.dayLabel(day).slice(0, length), () => []).push(day);
        return [...groups].map(([label, inWindow]) => this.siteWindow(site, label, inWindow, toMs));
      };
      sites[site.id] = {
        district: site.district,
        type: site.type,
        floorAreaM2: site.floorAreaM2,
        days: windows(10),
        months: windows(7),
        years: windows(4),
        total: this.siteWindow(site, 'total', days, toMs),
        // the quarters of demand-response events: [start, kWh of grid imports saved against the load without it]
        ...quartersOf('drReduction15m', this.drReductions.get(site.id)),
        // the quarters a price response moved: [start, kWh less drawn (peak bands) or more (negative: the valley)]
        ...quartersOf('priceShift15m', this.priceShifts.get(site.id)),
      };
    }
    return {
      format: GROUND_TRUTH_FORMAT,
      scenario: scenario.name,
      seed: this.seed,
      from: new Date(this.fromMs).toISOString(),
      to: new Date(toMs).toISOString(),
      intervalSeconds: scenario.intervalSeconds,
      utcOffsetHours: scenario.location.utcOffsetHours,
      emissionFactors: scenario.emissionFactors,
      renewableAccounting: scenario.renewableAccounting,
      sites,
      devices,
      faults: this.faults,
    };
  }

  private dayLabel(dayStartMs: number): string {
    return new Date(dayStartMs + this.scenario.location.utcOffsetHours * 3_600_000)
      .toISOString()
      .slice(0, 10);
  }

  /** The spans between readings a device sent more than 1.5 intervals apart, with its true power over each. */
  private silences(deviceId: string): SilenceTruth[] {
    const times = [...new Set(this.sentTimes.get(deviceId) ?? [])].sort((a, b) => a - b);
    const out: SilenceTruth[] = [];
    for (let i = 1; i < times.length; i++) {
      const [fromMs, toMs] = [times[i - 1]!, times[i]!];
      if (toMs - fromMs <= 1.5 * this.stepMs) continue;
      const powerKw: SilenceTruth['powerKw'] = {};
      for (const [metric, steps] of this.steps.get(deviceId) ?? []) {
        const kw = steps
          .slice((fromMs - this.fromMs) / this.stepMs, (toMs - this.fromMs) / this.stepMs)
          .map((amount) => (amount * 3_600_000) / this.stepMs);
        powerKw[metric] = { min: r6(Math.min(...kw)), max: r6(Math.max(...kw)) };
      }
      out.push({
        from: new Date(fromMs).toISOString(),
        to: new Date(toMs).toISOString(),
        fromMs,
        toMs,
        powerKw,
      });
    }
    return out;
  }

  /** A site's true KPIs over the days `dayStarts` (a day, a month, a year or the run), labelled `window`. */
  private siteWindow(
    site: Site,
    window: string,
    dayStarts: readonly number[],
    asOfMs: number,
  ): SiteWindowTruth {
    const f = this.scenario.emissionFactors;
    const coal = this.scenario.renewableAccounting;
    const offsetMs = this.scenario.location.utcOffsetHours * 3_600_000;
    const inWindow = new Set(dayStarts);
    const sumsOf = new Map<string, MetricSums>();
    const sums = (deviceId: string): MetricSums =>
      getOrSet(sumsOf, deviceId, () => {
        const total: MetricSums = {};
        for (const day of dayStarts)
          for (const [metric, amount] of Object.entries(this.days.get(deviceId)?.get(day) ?? {}))
            total[metric] = (total[metric] ?? 0) + amount;
        return total;
      });
    const byRole = (role: string, metric: string): number =>
      site.devices.filter((d) => d.role === role).reduce((s, d) => s + (sums(d.id)[metric] ?? 0), 0);
    const meters = site.devices.filter((d) => d.kind !== 'weather_station');
    let expected = 0;
    let received = 0;
    for (const meter of meters)
      for (const day of dayStarts) {
        expected += this.expected.get(meter.id)?.get(day) ?? 0;
        received += this.sent.get(meter.id)?.get(day) ?? 0;
      }
    const supply = site.devices.filter((d) => d.role === 'grid' || d.role === 'dc_total');
    const quarters = [...(this.quarters.get(supply[0]?.id ?? '')?.get('energy_import_kwh') ?? [])]
      .filter(([t]) => inWindow.has(localDayStart(t, this.scenario.location.utcOffsetHours)))
      .map(([, kwh]) => kwh);
    const common = {
      window,
      completeness: r6(expected > 0 ? Math.min(1, received / expected) : 0),
      ...(supply.length === 1
        ? { peakDemandKw: quarters.length > 0 ? r6(4 * Math.max(...quarters)) : null }
        : {}),
    };
    /** A year's projections as of `asOfMs`, linear by the share of it elapsed; a closed year is not projected. */
    /** CO2 (kg) with the grid's net purchase at the grid factor of the site's baseline year, where it has one. */
    const atBaselineFactor = (co2Kg: number, gridNetKwh: number): number => {
      const baseline = site.baseline && f.baselineGridKgCo2PerKwh?.[String(site.baseline.year)];
      return baseline ? co2Kg + gridNetKwh * (baseline.value - f.gridKgCo2PerKwh.value) : co2Kg;
    };
    const projections = (consumptionKwh: number, co2AtBaselineKg: number, kgce: number) => {
      if (!/^\d{4}$/.test(window)) return {};
      const year = Number(window);
      const [start, end] = [Date.UTC(year, 0, 1) - offsetMs, Date.UTC(year + 1, 0, 1) - offsetMs];
      const elapsed = Math.min(1, Math.max(0, (asOfMs - start) / (end - start)));
      const projected = (x: number): number | null => (elapsed >= MIN_ELAPSED_SHARE ? x / elapsed : null);
      const energy = projected(consumptionKwh / site.floorAreaM2);
      const comprehensive = projected(kgce / site.floorAreaM2);
      const carbon = projected(co2AtBaselineKg / site.floorAreaM2);
      const use = projected(consumptionKwh);
      return {
        elapsed: r6(elapsed),
        ...(site.baseline?.energyKwhPerM2
          ? { energyReduction: energy === null ? null : r6(1 - energy / site.baseline.energyKwhPerM2) }
          : {}),
        ...(site.baseline?.energyKgcePerM2
          ? {
              energyKgceReduction:
                comprehensive === null ? null : r6(1 - comprehensive / site.baseline.energyKgcePerM2),
            }
          : {}),
        ...(site.baseline?.carbonKgPerM2
          ? { co2Reduction: carbon === null ? null : r6(1 - carbon / site.baseline.carbonKgPerM2) }
          : {}),
        ...(site.electricityQuotaKwh
          ? { quotaUse: use === null ? null : r6(use / site.electricityQuotaKwh) }
          : {}),
      };
    };
    /** A month, a year or the run, rather than a day: its renewable share is "not declared" without renewables. */
    const calendar = !/^\d{4}-\d{2}-\d{2}$/.test(window);
    // district heat: its CO2 at the factor per GJ (3.6 MJ a kWh), its coal equivalent per kWh
    const heat = byRole('heat_purchased', 'heat_kwh');
    const heatCo2Kg = heat * 0.0036 * f.heatTCo2PerGj.value * 1000;
    const heatFields = site.devices.some((d) => d.role === 'heat_purchased')
      ? { purchasedHeatKwh: r6(heat) }
      : {};
    if (site.type === 'data_centre') {
      const total = byRole('dc_total', 'energy_import_kwh');
      const it = byRole('dc_it', 'energy_import_kwh');
      const co2Kg = total * f.gridKgCo2PerKwh.value + heatCo2Kg;
      const kgce = total * coal.electricityKgcePerKwh + heat * coal.heatKgcePerKwh;
      return {
        ...common,
        consumptionKwh: r6(total),
        gridImportKwh: r6(total),
        itKwh: r6(it),
        pue: it > 0 ? r6(total / it) : null,
        euiKwhPerM2: r6(total / site.floorAreaM2),
        co2Kg: r6(co2Kg),
        ...heatFields,
        energyKgce: r6(kgce),
        energyKgcePerM2: r6(kgce / site.floorAreaM2),
        // nothing renewable: a day's share is 0, a month's or a year's not declared (the simulator declares no green
        // power bought): none
        renewableShareTce: total > 0 && !calendar ? 0 : null,
        renewableShareGenerationTce: total > 0 && !calendar ? 0 : null,
        ...projections(total, atBaselineFactor(co2Kg, total), kgce),
      };
    }
    const gridImport = byRole('grid', 'energy_import_kwh');
    const gridExport = byRole('grid', 'energy_export_kwh');
    const pv = byRole('pv', 'energy_export_kwh');
    const gas = byRole('gas', 'gas_m3');
    const consumption = gridImport - gridExport + pv;
    const pvDevices = site.devices.filter((d) => d.role === 'pv');
    const kwp = pvDevices.reduce((k, d) => k + (d.peakPowerKwp ?? 0), 0);
    // Ambient heat Q × (1 − 1/SPF), renewable when the SPF exceeds the scenario's minimum (EU RED Annex VII). A year
    // is a heat pump's season, judged by its own SPF; a shorter window adds up its days, each judged by its own.
    const ambientOf = (heat: number, electric: number): number =>
      electric > 0 && heat / electric > coal.heatPumpMinSpf ? heat - electric : 0;
    const season = /^\d{4}$/.test(window);
    const heatPumps = site.devices
      .filter((d) => d.role === 'hp')
      .map((d) => {
        const heat = sums(d.id)['heat_kwh'] ?? 0;
        const electric = sums(d.id)['energy_import_kwh'] ?? 0;
        const spf = electric > 0 ? heat / electric : null;
        const ambient = season
          ? ambientOf(heat, electric)
          : dayStarts.reduce((total, day) => {
              const daySums = this.days.get(d.id)?.get(day) ?? {};
              return total + ambientOf(daySums['heat_kwh'] ?? 0, daySums['energy_import_kwh'] ?? 0);
            }, 0);
        return { id: d.id, heat, electric, spf, ambient };
      });
    const ambientKgce = heatPumps.reduce((s, hp) => s + hp.ambient, 0) * coal.heatKgcePerKwh;
    /** Renewable over all energy consumed, in kgce, with electricity at `kgcePerKwh`. */
    const shareAt = (kgcePerKwh: number): number | null => {
      const totalKgce =
        consumption * kgcePerKwh + gas * coal.gasKgcePerM3 + heat * coal.heatKgcePerKwh + ambientKgce;
      const renewableKgce = (pv - gridExport) * kgcePerKwh + ambientKgce;
      // a month or year with nothing renewable has no share: no green power is declared to the simulator
      if (calendar && renewableKgce <= 0) return null;
      return totalKgce > 0 ? r6(renewableKgce / totalKgce) : null;
    };
    // net purchased electricity: exports deducted at the grid factor (GB/T 32150's 输出的电力)
    const co2Kg =
      (gridImport - gridExport) * f.gridKgCo2PerKwh.value + gas * f.gasKgCo2PerM3.value + heatCo2Kg;
    const kgce =
      consumption * coal.electricityKgcePerKwh + gas * coal.gasKgcePerM3 + heat * coal.heatKgcePerKwh;
    return {
      ...common,
      consumptionKwh: r6(consumption),
      gridImportKwh: r6(gridImport),
      ...(pvDevices.length > 0
        ? {
            gridExportKwh: r6(gridExport),
            pvKwh: r6(pv),
            pvSelfConsumedKwh: r6(pv - gridExport),
            renewableShare: consumption > 0 ? r6((pv - gridExport) / consumption) : null,
            pvYieldKwhPerKwp: kwp > 0 ? r6(pv / kwp) : null,
          }
        : {}),
      categoryKwh: Object.fromEntries(
        ['lighting_sockets', 'hvac', 'power', 'special'].map((c) => [c, r6(byRole(c, 'energy_import_kwh'))]),
      ),
      euiKwhPerM2: r6(consumption / site.floorAreaM2),
      co2Kg: r6(co2Kg),
      ...(site.devices.some((d) => d.role === 'gas') ? { gasM3: r6(gas) } : {}),
      ...heatFields,
      energyKgce: r6(kgce),
      energyKgcePerM2: r6(kgce / site.floorAreaM2),
      ...(heatPumps.length > 0
        ? {
            heatPumps: Object.fromEntries(
              heatPumps.map((hp) => [
                hp.id,
                {
                  heatKwh: r6(hp.heat),
                  electricKwh: r6(hp.electric),
                  cop: hp.spf === null ? null : r6(hp.spf),
                  renewableKwh: r6(hp.ambient),
                },
              ]),
            ),
          }
        : {}),
      renewableShareTce: shareAt(coal.electricityKgcePerKwh),
      renewableShareGenerationTce: shareAt(coal.electricityKgcePerKwhGeneration),
      ...projections(consumption, atBaselineFactor(co2Kg, gridImport - gridExport), kgce),
    };
  }
}

function getOrSet<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = create();
    map.set(key, value);
  }
  return value;
}

function addToQuarter(
  sums: Map<string, Map<number, number>>,
  siteId: string,
  tsMs: number,
  kwh: number,
): void {
  const byQuarter = getOrSet(sums, siteId, () => new Map<number, number>());
  const quarter = Math.floor(tsMs / QUARTER_MS) * QUARTER_MS;
  byQuarter.set(quarter, (byQuarter.get(quarter) ?? 0) + kwh);
}

/** A site's quarters as the ground truth lists them ([start, kWh] in time order), under `key`; nothing without any. */
function quartersOf(
  key: string,
  quarters: Map<number, number> | undefined,
): Record<string, [number, number][]> {
  return quarters
    ? { [key]: [...quarters].sort((a, b) => a[0] - b[0]).map(([t, kwh]): [number, number] => [t, r6(kwh)]) }
    : {};
}
