import {
  completeness,
  electricityCo2LocationT,
  gasCo2T,
  heatCo2T,
  GJ_PER_MJ,
  MJ_PER_KWH,
} from '@peakwatch/domain';
import type { Co2Factors, KpiFactors } from '../factors';
import type { KpiValue } from '../kpi-store';
import { emptySum, type DeviceEnergy, type WindowSum } from '../meter-read';
import type { FixedPeriod } from '../periods';
import type { MetricName } from '@peakwatch/contracts';
import { expectedReadings, type Site } from '@peakwatch/registry';

const PERIOD_ORDER: Record<FixedPeriod, number> = { '15m': 0, '1h': 1, '1d': 2 };

/**
 * The shortest period a KPI is written for (default 15m: energy, its sub-metering categories, PUE, COP). Below it a
 * KPI would say nothing the others do not, or nothing at all: over a quarter hour CO2 is the energy times an annual
 * factor and a peak demand is the energy × 4; an intensity per m² (kWh/m²·a), a register-anomaly count and a target
 * share are meant per day and longer.
 */
const SHORTEST_PERIOD: Readonly<Record<string, FixedPeriod>> = {
  co2_t: '1h',
  meter_completeness: '1d',
  renewable_share: '1h',
  renewable_share_generation: '1h',
  heat_pump_renewable_kwh: '1h',
  peak_demand_kw: '1h',
  pv_yield_kwh_kwp: '1h',
  eui_kwh_m2: '1d',
  register_anomalies: '1d',
  renewable_share_target: '1d',
  energy_kgce: '1h',
  grid_import_kwh: '1h',
  energy_kgce_m2: '1d',
  co2_baseline_factors_t: '1d',
  cost_cny: '1h',
  avg_price_cny_kwh: '1h',
  peak_band_share: '1d',
  peak_hours_load_kw: '1d',
  load_factor: '1d',
};

/**
 * The longest period a KPI is written for (default: every one). A site's demand of a quarter hour is what its
 * district's and the city's coincident peak sums, quarter by quarter (apps/analytics coincident.ts).
 */
const LONGEST_PERIOD: Readonly<Record<string, FixedPeriod>> = { demand_kw: '15m' };

/**
 * Whether a KPI's window holds energy spread over a gap, and which share of its energy that is (and what else a KPI
 * of it says: a cost without a tariff, a peak's time).
 */
export type Basis = Pick<KpiValue, 'estimated' | 'estimatedShare' | 'noTariff' | 'atMs'>;
export const MEASURED: Basis = { estimated: false, estimatedShare: 0 };

/** Share of the energy of `sums` spread over a gap (0 without energy). */
function spreadShare(sums: readonly WindowSum[]): number {
  const energy = sums.reduce((e, s) => e + Math.abs(s.energy), 0);
  return energy > 0 ? Math.min(1, sums.reduce((e, s) => e + Math.abs(s.estimatedEnergy), 0) / energy) : 0;
}

/**
 * The basis of a KPI made of `numerator` (and, for a ratio of two energies, `denominator`): estimated if any of them
 * holds spread energy; the estimated share is that of the numerator's energy, or the larger of the two sides'.
 */
export function basisOf(numerator: readonly WindowSum[], denominator: readonly WindowSum[] = []): Basis {
  return {
    estimated: [...numerator, ...denominator].some((s) => s.estimated),
    estimatedShare: Math.max(spreadShare(numerator), spreadShare(denominator)),
  };
}

/** A window's energy in other units (CO2, tce), for the estimated share of a KPI that mixes carriers. */
export const scaled = (s: WindowSum, factor: number): WindowSum => ({
  ...s,
  energy: s.energy * factor,
  estimatedEnergy: s.estimatedEnergy * factor,
});

const NO_ENERGY = emptySum();

/**
 * One window of one site, as the KPIs of each site type read it: its devices' energy by metric and role, the
 * completeness of its readings, and `push`, which records a KPI of the window (unless its period is shorter than the
 * KPI's shortest). Built by siteKpis for each window; the KPIs of meters (meterKpis), data centres
 * (dataCentreKpis) and buildings (buildingKpis) read it.
 */
export interface SiteWindow {
  site: Site;
  devices: readonly DeviceEnergy[];
  /** The site's factors, its own gas heating value applied (forSite). */
  factors: KpiFactors;
  /** Purchased heat's CO2 per kWh (kg): 3.6 MJ at the factor per GJ. */
  heatKgCo2PerKwh: number;
  byRole: ReadonlyMap<string, DeviceEnergy[]>;
  /** The devices with a register to complete (all but weather stations). */
  meters: readonly DeviceEnergy[];
  startMs: number;
  endMs: number;
  utcOffsetMs: number;
  /** Energy of a metric of a device in the window. */
  of: (d: DeviceEnergy, metric: MetricName) => WindowSum;
  /** Energy of a metric of a role's meters in the window. */
  sum: (role: string, metric: MetricName) => WindowSum;
  /** A window without data has no value, never a zero one: `x` when any of `parts` has a known reading, else null. */
  orNull: (x: number | null, ...parts: { known: number }[]) => number | null;
  push: (
    kpi: string,
    value: number | null,
    numerator: number,
    denominator: number,
    basis: Basis,
    category?: string,
    completeness?: number,
  ) => void;
  /**
   * The window's CO2 (t) at the period's factors, and for a site with a carbon baseline at its baseline year's
   * (`co2_baseline_factors_t`, what `co2_reduction` compares: docs/domain.md, "CO2"). `parts` decide whether the
   * window has data (the grid's: gas or heat alone are not the site's CO2); `weighted` are the carriers in kg CO2,
   * for the estimated share.
   */
  carbon: (
    flows: { importKwh: number; exportKwh: number; gasM3: number; heatKwh: number },
    parts: WindowSum[],
    weighted: WindowSum[],
  ) => void;
}

/** The window of `period` at `startMs` of a site, recording its KPIs into `out`. */
export function siteWindow({
  site,
  devices,
  factors,
  period,
  startMs,
  endMs,
  utcOffsetMs,
  out,
}: {
  site: Site;
  devices: readonly DeviceEnergy[];
  factors: KpiFactors;
  period: FixedPeriod;
  startMs: number;
  endMs: number;
  utcOffsetMs: number;
  out: KpiValue[];
}): SiteWindow {
  const byRole = new Map<string, DeviceEnergy[]>();
  for (const d of devices) byRole.set(d.device.role, [...(byRole.get(d.device.role) ?? []), d]);
  // every registered meter is expected in every window, whether or not it sent anything (a meter silent all day is
  // 0 of its readings, not left out), until its `removedAt`; a weather station has no register to complete
  const meters = devices.filter((d) => d.device.kind !== 'weather_station');
  const expected = meters.reduce((n, d) => n + expectedReadings(d.device, startMs, endMs), 0);
  const received = meters.reduce((n, d) => n + (d.readingsByWindow.get(startMs) ?? 0), 0);
  const quality = completeness({ received, expected });
  const of = (d: DeviceEnergy, metric: MetricName): WindowSum =>
    d.windows.get(metric)?.get(startMs) ?? NO_ENERGY;
  const sum = (role: string, metric: MetricName): WindowSum => {
    const total = emptySum();
    for (const d of byRole.get(role) ?? []) {
      const x = of(d, metric);
      total.energy += x.energy;
      total.estimatedEnergy += x.estimatedEnergy;
      total.estimated ||= x.estimated;
      total.known += x.known;
      total.anomalies += x.anomalies;
    }
    return total;
  };
  const orNull = (x: number | null, ...parts: { known: number }[]): number | null =>
    parts.some((p) => p.known > 0) ? x : null;
  const push: SiteWindow['push'] = (
    kpi,
    value,
    numerator,
    denominator,
    basis,
    category,
    completeness = quality,
  ) => {
    if (PERIOD_ORDER[period] < PERIOD_ORDER[SHORTEST_PERIOD[kpi] ?? '15m']) return;
    if (PERIOD_ORDER[period] > PERIOD_ORDER[LONGEST_PERIOD[kpi] ?? '1d']) return;
    const k: KpiValue = {
      kpi,
      windowStartMs: startMs,
      value,
      numerator,
      denominator,
      completeness,
      ...basis,
    };
    if (category) k.category = category;
    out.push(k);
  };
  const carbon: SiteWindow['carbon'] = (flows, parts, weighted) => {
    const at = (f: Co2Factors): number =>
      electricityCo2LocationT({
        importKwh: flows.importKwh,
        exportKwh: flows.exportKwh,
        factorKgPerKwh: f.gridKgCo2PerKwh,
      }) +
      gasCo2T({ gasM3: flows.gasM3, factorKgPerM3: f.gasKgCo2PerM3 }) +
      heatCo2T({ heatGj: flows.heatKwh * MJ_PER_KWH * GJ_PER_MJ, factorTPerGj: f.heatTCo2PerGj });
    const co2 = at(factors);
    push('co2_t', orNull(co2, ...parts), co2, 1, basisOf(weighted));
    // a carbon baseline declared, or one the KPIs compute from its year (docs/imports.md, "Baseline from data")
    if (site.baseline?.carbonKgPerM2 || site.baseline?.source === 'data') {
      // a baseline from data is at its year's factors as published by that year's end, in its own year's window
      // and in every window compared with it, so that a factor published later changes neither side
      const fromData = site.baseline.source === 'data' ? `${site.baseline.year}-12-31` : undefined;
      const atBaseline = at(factors.baselineCo2?.(site.baseline.year, fromData) ?? factors);
      push('co2_baseline_factors_t', orNull(atBaseline, ...parts), atBaseline, 1, basisOf(weighted));
    }
  };
  return {
    site,
    devices,
    factors,
    heatKgCo2PerKwh: MJ_PER_KWH * GJ_PER_MJ * factors.heatTCo2PerGj * 1000,
    byRole,
    meters,
    startMs,
    endMs,
    utcOffsetMs,
    of,
    sum,
    orNull,
    push,
    carbon,
  };
}
