import { comprehensiveEnergyKgce, pue, renewableShare, renewableTrajectoryTarget } from '@peakwatch/domain';
import { MEASURED, basisOf, scaled, type SiteWindow } from './site-window';

/**
 * A data centre's KPIs of a window: facility energy, PUE (GB 40879), CO2 and comprehensive energy of its grid
 * electricity and purchased heat, its renewable shares and, for a centre commissioned under it, the renewable
 * trajectory's target of its year (docs/domain.md, "Data centres").
 */
export function dataCentreKpis({
  site,
  factors,
  heatKgCo2PerKwh,
  startMs,
  utcOffsetMs,
  sum,
  orNull,
  push,
  carbon,
}: SiteWindow): void {
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
    push(kpi, orNull(dcShare.share, facility), dcShare.renewableTce, dcShare.totalTce, basisOf([facility]));
  }
  const trajectory = factors.dcRenewableTrajectory;
  if (trajectory && site.commissionedOn >= trajectory.appliesFrom) {
    const target = renewableTrajectoryTarget({
      commissionedYear: Number(site.commissionedOn.slice(0, 4)),
      year: new Date(startMs + utcOffsetMs).getUTCFullYear(),
      stepPerYear: trajectory.stepPerYear,
    });
    push('renewable_share_target', target, target, 1, MEASURED);
  }
}
