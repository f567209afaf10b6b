import {
  completeness,
  comprehensiveEnergyKgce,
  electricityCo2LocationT,
  energyIntensity,
  gasCo2T,
  heatCo2T,
  GJ_PER_MJ,
  MJ_PER_KWH,
  heatPumpRenewableKwh,
  peakDemandKw,
  performanceFactor,
  pue,
  pvSpecificYield,
  renewableShare,
  renewableTrajectoryTarget,
} from '@peakwatch/domain';
import type { InfluxClient } from '@peakwatch/influx';
import {
  FIXED_PERIOD_MS,
  emptySum,
  forSite,
  periodEnergy,
  periodWindow,
  readQuarters,
  type Co2Factors,
  type DeviceEnergy,
  type FixedPeriod,
  type KpiFactors,
  type KpiValue,
  type WindowSum,
} from '@peakwatch/metering';
import type { MetricName } from '@peakwatch/contracts';
import { SUBMETER_ROLES, expectedReadings, type Registry, type Site } from '@peakwatch/registry';

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
};

/** Whether a KPI's window holds energy spread over a gap, and which share of its energy that is. */
type Basis = Pick<KpiValue, 'estimated' | 'estimatedShare'>;
const MEASURED: Basis = { estimated: false, estimatedShare: 0 };

/** Share of the energy of `sums` spread over a gap (0 without energy). */
function spreadShare(sums: readonly WindowSum[]): number {
  const energy = sums.reduce((e, s) => e + Math.abs(s.energy), 0);
  return energy > 0 ? Math.min(1, sums.reduce((e, s) => e + Math.abs(s.estimatedEnergy), 0) / energy) : 0;
}

/**
 * The basis of a KPI made of `numerator` (and, for a ratio of two energies, `denominator`): estimated if any of them
 * holds spread energy; the estimated share is that of the numerator's energy, or the larger of the two sides'.
 */
function basisOf(numerator: readonly WindowSum[], denominator: readonly WindowSum[] = []): Basis {
  return {
    estimated: [...numerator, ...denominator].some((s) => s.estimated),
    estimatedShare: Math.max(spreadShare(numerator), spreadShare(denominator)),
  };
}

/** A window's energy in other units (CO2, tce), for the estimated share of a KPI that mixes carriers. */
const scaled = (s: WindowSum, factor: number): WindowSum => ({
  ...s,
  energy: s.energy * factor,
  estimatedEnergy: s.estimatedEnergy * factor,
});

const NO_ENERGY = emptySum();

/**
 * Computes a site's KPIs for windows of [fromMs, toMs) from the raw telemetry in InfluxDB, with the domain library's
 * register rules (wraps, declared replacements, gaps), so that a KPI is traceable to readings. The arithmetic is done
 * here, not in InfluxQL (README, "Architecture").
 */
export async function computeSiteKpis({
  influx,
  registry,
  siteId,
  fromMs,
  toMs,
  period,
  utcOffsetMs,
  factors,
}: {
  influx: InfluxClient;
  registry: Registry;
  siteId: string;
  fromMs: number;
  toMs: number;
  period: FixedPeriod;
  utcOffsetMs: number;
  factors: KpiFactors;
}): Promise<KpiValue[]> {
  const site = registry.site(siteId);
  if (!site) throw new Error(`unknown site ${siteId}`);
  // Whole windows only: a window is computed from all of its readings even when the range starts inside it.
  fromMs = periodWindow(period, fromMs, utcOffsetMs).startMs;
  const quarters = await readQuarters(influx, site.devices, fromMs, toMs);
  return siteKpis({
    site,
    devices: quarters.map((q) => periodEnergy(q, period, fromMs, toMs, utcOffsetMs)),
    fromMs,
    toMs,
    period,
    utcOffsetMs,
    factors,
  });
}

/**
 * A site's KPIs for the windows of `period` in [fromMs, toMs) (fromMs a window start) from its devices' energies in
 * those windows.
 */
export function siteKpis({
  site,
  devices,
  fromMs,
  toMs,
  period,
  utcOffsetMs,
  factors,
}: {
  site: Site;
  devices: readonly DeviceEnergy[];
  fromMs: number;
  toMs: number;
  period: FixedPeriod;
  utcOffsetMs: number;
  factors: KpiFactors;
}): KpiValue[] {
  factors = forSite(site, factors);
  /** Purchased heat's CO2 per kWh (kg): 3.6 MJ at the factor per GJ. */
  const heatKgCo2PerKwh = MJ_PER_KWH * GJ_PER_MJ * factors.heatTCo2PerGj * 1000;
  const sizeMs = FIXED_PERIOD_MS[period];
  const byRole = new Map<string, DeviceEnergy[]>();
  for (const d of devices) byRole.set(d.device.role, [...(byRole.get(d.device.role) ?? []), d]);
  // every registered meter is expected in every window, whether or not it sent anything (a meter silent all day is
  // 0 of its readings, not left out), until its `removedAt`; a weather station has no register to complete
  const meters = devices.filter((d) => d.device.kind !== 'weather_station');
  const out: KpiValue[] = [];
  for (let w = fromMs; w < toMs; w += sizeMs) {
    const expectedOf = (d: DeviceEnergy): number => expectedReadings(d.device, w, w + sizeMs);
    const expected = meters.reduce((n, d) => n + expectedOf(d), 0);
    /** Energy of a metric of a device, or of a role's meters, in the window. */
    const of = (d: DeviceEnergy, metric: MetricName): WindowSum => d.windows.get(metric)?.get(w) ?? NO_ENERGY;
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
    /** A window without data has no value, never a zero one. */
    const orNull = (x: number | null, ...parts: { known: number }[]): number | null =>
      parts.some((p) => p.known > 0) ? x : null;
    const received = meters.reduce((n, d) => n + (d.readingsByWindow.get(w) ?? 0), 0);
    const quality = completeness({ received, expected });
    const push = (
      kpi: string,
      value: number | null,
      numerator: number,
      denominator: number,
      basis: Basis,
      category?: string,
      completeness = quality,
    ): void => {
      if (PERIOD_ORDER[period] < PERIOD_ORDER[SHORTEST_PERIOD[kpi] ?? '15m']) return;
      const k: KpiValue = {
        kpi,
        windowStartMs: w,
        value,
        numerator,
        denominator,
        completeness,
        ...basis,
      };
      if (category) k.category = category;
      out.push(k);
    };
    /**
     * The window's CO2 (t) at the period's factors, and for a site with a carbon baseline at its baseline year's
     * (`co2_baseline_factors_t`, what `co2_reduction` compares: docs/domain.md, "CO2"). `parts` decide whether the
     * window has data (the grid's: gas or heat alone are not the site's CO2); `weighted` are the carriers in kg CO2,
     * for the estimated share.
     */
    const carbon = (
      flows: { importKwh: number; exportKwh: number; gasM3: number; heatKwh: number },
      parts: WindowSum[],
      weighted: WindowSum[],
    ): void => {
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
      if (site.baseline?.carbonKgPerM2) {
        const atBaseline = at(factors.baselineCo2?.(site.baseline.year) ?? factors);
        push('co2_baseline_factors_t', orNull(atBaseline, ...parts), atBaseline, 1, basisOf(weighted));
      }
    };
    // register readings the rules could not explain (a drop that is neither a wrap nor a declared replacement, or an
    // impossible jump): a data-quality signal for the facility manager
    let anomalies = 0;
    let known = 0;
    for (const d of meters)
      for (const sums of d.windows.values()) {
        anomalies += sums.get(w)?.anomalies ?? 0;
        known += sums.get(w)?.known ?? 0;
      }
    push('register_anomalies', known > 0 || anomalies > 0 ? anomalies : null, anomalies, 1, MEASURED);
    // each meter's own completeness, so that the silent one can be found
    for (const d of meters) {
      const received = d.readingsByWindow.get(w) ?? 0;
      const own = expectedOf(d);
      if (own === 0) continue; // removed before the window
      const c = completeness({ received, expected: own });
      push('meter_completeness', c, received, own, MEASURED, d.device.id, c);
    }
    // Peak demand (largest 15-minute average kW) of the site's supply meter, where it has exactly one: the sum of
    // several meters' own peaks would overstate a peak they did not reach together. Of measured quarters only; the
    // value is estimated when the window has quarters spread over a gap, which it did not judge.
    const supply = [...(byRole.get('grid') ?? []), ...(byRole.get('dc_total') ?? [])];
    if (supply.length === 1) {
      const quarters = of(supply[0]!, 'energy_import_kwh');
      const peak = peakDemandKw(quarters.quarters);
      push('peak_demand_kw', peak, peak ?? 0, 1, basisOf([quarters]));
    }
    if (site.type === 'data_centre') {
      const facility = sum('dc_total', 'energy_import_kwh');
      const it = sum('dc_it', 'energy_import_kwh');
      push('energy_kwh', orNull(facility.energy, facility), facility.energy, 1, basisOf([facility]));
      push(
        'pue',
        orNull(pue({ facilityKwh: facility.energy, itKwh: it.energy }), facility),
        facility.energy,
        it.energy,
        basisOf([facility], [it]),
      );
      const heat = sum('heat_purchased', 'heat_kwh');
      carbon(
        { importKwh: facility.energy, exportKwh: 0, gasM3: 0, heatKwh: heat.energy },
        [facility],
        [scaled(facility, factors.gridKgCo2PerKwh), scaled(heat, heatKgCo2PerKwh)],
      );
      const dcKgce = comprehensiveEnergyKgce({
        electricityKwh: facility.energy,
        gasM3: 0,
        heatKwh: heat.energy,
        coefficients: factors.coal,
      });
      push('energy_kgce', orNull(dcKgce, facility), dcKgce, 1, basisOf([facility, heat]));
      push('grid_import_kwh', orNull(facility.energy, facility), facility.energy, 1, basisOf([facility]));
      // Grid electricity only so far: on-site PV and green-power certificates of data centres are not metered yet.
      for (const [kpi, electricityKgcePerKwh] of [
        ['renewable_share', factors.coal.electricityKgcePerKwh],
        ['renewable_share_generation', factors.generationKgcePerKwh],
      ] as const) {
        const dcShare = renewableShare({
          electricityKwh: facility.energy,
          pvConsumedKwh: 0,
          greenPowerKwh: 0,
          renewableHeatKwh: 0,
          gasM3: 0,
          purchasedHeatKwh: heat.energy,
          coefficients: { ...factors.coal, electricityKgcePerKwh },
        });
        push(
          kpi,
          orNull(dcShare.share, facility),
          dcShare.renewableTce,
          dcShare.totalTce,
          basisOf([facility]),
        );
      }
      const trajectory = factors.dcRenewableTrajectory;
      if (trajectory && site.commissionedOn >= trajectory.appliesFrom) {
        const target = renewableTrajectoryTarget({
          commissionedYear: Number(site.commissionedOn.slice(0, 4)),
          year: new Date(w + utcOffsetMs).getUTCFullYear(),
          stepPerYear: trajectory.stepPerYear,
        });
        push('renewable_share_target', target, target, 1, MEASURED);
      }
      continue;
    }
    const gridImport = sum('grid', 'energy_import_kwh');
    const gridExport = sum('grid', 'energy_export_kwh');
    const pv = sum('pv', 'energy_export_kwh');
    const consumption = gridImport.energy - gridExport.energy + pv.energy;
    const flows = basisOf([gridImport, gridExport, pv]);
    push('energy_kwh', orNull(consumption, gridImport, pv), consumption, 1, flows);
    // PV final yield Y_f = E / P0 (IEC 61724-1), kWh per kWp of the site's inverters
    const kwp = (byRole.get('pv') ?? []).reduce((k, d) => k + (d.device.peakPowerKwp ?? 0), 0);
    if (kwp > 0)
      push(
        'pv_yield_kwh_kwp',
        orNull(pvSpecificYield({ energyKwh: pv.energy, peakPowerKwp: kwp }), pv),
        pv.energy,
        kwp,
        basisOf([pv]),
      );
    push(
      'eui_kwh_m2',
      orNull(energyIntensity({ energyKwh: consumption, floorAreaM2: site.floorAreaM2 }), gridImport, pv),
      consumption,
      site.floorAreaM2,
      flows,
    );
    // CO2 (GB/T 32150): net purchased electricity (imports − exports; PV is emission-free), natural gas and
    // purchased heat; comprehensive energy (GB/T 2589) of every carrier used, per m² for the Haidian targets
    const gas = sum('gas', 'gas_m3');
    const heat = sum('heat_purchased', 'heat_kwh');
    carbon(
      { importKwh: gridImport.energy, exportKwh: gridExport.energy, gasM3: gas.energy, heatKwh: heat.energy },
      [gridImport],
      [
        scaled(gridImport, factors.gridKgCo2PerKwh),
        scaled(gridExport, factors.gridKgCo2PerKwh),
        scaled(gas, factors.gasKgCo2PerM3),
        scaled(heat, heatKgCo2PerKwh),
      ],
    );
    const kgce = comprehensiveEnergyKgce({
      electricityKwh: consumption,
      gasM3: gas.energy,
      heatKwh: heat.energy,
      coefficients: factors.coal,
    });
    const carriers = basisOf([
      scaled(gridImport, factors.coal.electricityKgcePerKwh),
      scaled(gridExport, factors.coal.electricityKgcePerKwh),
      scaled(pv, factors.coal.electricityKgcePerKwh),
      scaled(gas, factors.coal.gasKgcePerM3),
      scaled(heat, factors.coal.heatKgcePerKwh),
    ]);
    // as energy_kwh: a window without the site's electricity has none (a heat meter alone is not its energy)
    const used = [gridImport, pv];
    // what green power bought can cover (docs/domain.md, "Green power")
    push(
      'grid_import_kwh',
      orNull(gridImport.energy, gridImport),
      gridImport.energy,
      1,
      basisOf([gridImport]),
    );
    push('energy_kgce', orNull(kgce, ...used), kgce, 1, carriers);
    push(
      'energy_kgce_m2',
      orNull(energyIntensity({ energyKwh: kgce, floorAreaM2: site.floorAreaM2 }), ...used),
      kgce,
      site.floorAreaM2,
      carriers,
    );
    // Heat pumps: interval COP, and the renewable (ambient) heat Q × (1 − 1/SPF) when the SPF exceeds the minimum
    // (EU RED Annex VII). Within a season the window's own SPF stands in for the season's; the year and the rolling
    // 12 months, the seasons, are credited by their own SPF when they are combined (rollups.ts creditSeasonalHeatPumps).
    const heatPumps = devices
      .filter((d) => d.device.role === 'hp')
      .map((hp) => {
        const heatSum = of(hp, 'heat_kwh');
        const electricSum = of(hp, 'energy_import_kwh');
        const [heat, electric] = [heatSum.energy, electricSum.energy];
        const cop = performanceFactor({ heatKwh: heat, electricKwh: electric });
        return {
          id: hp.device.id,
          heat,
          electric,
          heatSum,
          electricSum,
          basis: basisOf([heatSum], [electricSum]),
          cop,
          renewableKwh: heatPumpRenewableKwh({ heatKwh: heat, spf: cop, minSpf: factors.heatPumpMinSpf }),
        };
      });
    // The renewable share in tce by both coal equivalents of electricity: the calorific one (当量值, 0.1229
    // kgce/kWh) and the generation one (发电煤耗法), by which the plans' targets are counted.
    for (const [kpi, electricityKgcePerKwh] of [
      ['renewable_share', factors.coal.electricityKgcePerKwh],
      ['renewable_share_generation', factors.generationKgcePerKwh],
    ] as const) {
      const share = renewableShare({
        electricityKwh: consumption,
        pvConsumedKwh: pv.energy - gridExport.energy,
        greenPowerKwh: 0,
        renewableHeatKwh: heatPumps.reduce((s, hp) => s + hp.renewableKwh, 0),
        gasM3: gas.energy,
        purchasedHeatKwh: heat.energy,
        coefficients: { ...factors.coal, electricityKgcePerKwh },
      });
      push(
        kpi,
        orNull(share.share, gridImport, pv),
        share.renewableTce,
        share.totalTce,
        basisOf([
          scaled(gridImport, electricityKgcePerKwh),
          scaled(gridExport, electricityKgcePerKwh),
          scaled(pv, electricityKgcePerKwh),
          scaled(gas, factors.coal.gasKgcePerM3),
          scaled(heat, factors.coal.heatKgcePerKwh),
        ]),
      );
    }
    // Sub-metering categories (MOHURD 2008) the site has meters for.
    for (const category of SUBMETER_ROLES.filter((role) => byRole.has(role))) {
      const c = sum(category, 'energy_import_kwh');
      push('energy_kwh', orNull(c.energy, c), c.energy, 1, basisOf([c]), category);
    }
    for (const hp of heatPumps) {
      push('cop', hp.cop, hp.heat, hp.electric, hp.basis, hp.id);
      const renewable = orNull(hp.renewableKwh, hp.heatSum, hp.electricSum);
      push('heat_pump_renewable_kwh', renewable, hp.renewableKwh, 1, hp.basis, hp.id);
    }
  }
  return out;
}
