import {
  comprehensiveEnergyKgce,
  energyIntensity,
  heatPumpRenewableKwh,
  performanceFactor,
  pvSpecificYield,
  renewableShare,
} from '@peakwatch/domain';
import { SUBMETER_ROLES } from '@peakwatch/registry';
import { basisOf, scaled, type SiteWindow } from './site-window';

/**
 * A building's KPIs of a window (every site type but a data centre): energy (grid − export + PV), PV yield, EUI, CO2,
 * comprehensive energy and its intensity, grid imports, heat pumps' COP and renewable heat, the renewable shares, and
 * the sub-metering categories it has meters for (docs/domain.md).
 */
export function buildingKpis({
  site,
  devices,
  factors,
  heatKgCo2PerKwh,
  byRole,
  of,
  sum,
  orNull,
  push,
  carbon,
}: SiteWindow): void {
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
  push('grid_import_kwh', orNull(gridImport.energy, gridImport), gridImport.energy, 1, basisOf([gridImport]));
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
