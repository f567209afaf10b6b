import {
  comprehensiveEnergyKgce,
  electricityCo2LocationT,
  electricityCo2MarketT,
  gasCo2T,
  GJ_PER_MJ,
  heatCo2T,
  KWH_PER_CERTIFICATE,
  MJ_PER_KWH,
} from '@peakwatch/domain';
import type { MetricName } from '@peakwatch/contracts';
import { forSite, kpiFactorsFor } from '@peakwatch/metering';
import type { Factor, PolicyData } from '@peakwatch/policy';
import type { Site } from '@peakwatch/registry';
import type { DeclaredInputs, GreenPower } from '@peakwatch/state';
import { round, type CarrierLine, type MeterLine, type Report } from './report-schema';

/** What the report states from its meter lines: energy by carrier, emissions, intensities, the factors, completeness. */
export type ReportFigures = Pick<Report, 'energy' | 'emissions' | 'intensities' | 'factors' | 'completeness'>;

/**
 * The report's figures from its meter lines and the organisation's declarations, with no I/O (docs/reports.md,
 * "How a report is built"; the formulas are libs/domain's, with their sources in docs/domain.md): carriers in physical units and in
 * tce, comprehensive energy, location- and market-based emissions, intensities per m² and per unit of output, and the
 * factors used: those of the period's `year` as published by `asOf` (the period's last day, so that a factor published
 * later never restates it).
 */
export function reportFigures({
  meters,
  sites,
  inputs,
  policy,
  year,
  asOf,
}: {
  meters: readonly MeterLine[];
  sites: readonly Site[];
  inputs: DeclaredInputs;
  policy: PolicyData;
  year: number;
  asOf: string;
}): ReportFigures {
  const sum = (roles: string[], metric: MetricName): number =>
    meters.filter((m) => roles.includes(m.role) && m.metric === metric).reduce((s, m) => s + m.quantity, 0);
  const gridKwh = sum(['grid', 'dc_total'], 'energy_import_kwh');
  const exportedKwh = sum(['grid'], 'energy_export_kwh');
  const pvKwh = sum(['pv'], 'energy_export_kwh');
  // green power declared (every purchase was checked to be the organisation's or one of its sites'), by kind
  const greenPower = inputs.greenPower ?? [];
  const kwhOf = (kind: GreenPower['kind']): number =>
    greenPower.filter((g) => g.kind === kind).reduce((kwh, g) => kwh + g.mwh * 1000, 0);
  const certificateKwh = (inputs.greenCertificates ?? 0) * KWH_PER_CERTIFICATE + kwhOf('certificate');
  const contractKwh = kwhOf('contract');
  const greenKwh = certificateKwh + contractKwh;
  // metered district heat, and what the organisation declares for sites without a heat meter
  const heatKwh = sum(['heat_purchased'], 'heat_kwh') + (inputs.purchasedHeatKwh ?? 0);
  const factor = (query: { kind: string; year?: number; method?: string }) =>
    policy.factor({ region: 'cn', asOf, ...query });
  const heatFactor = factor({ kind: 'purchased_heat' });
  const factors = kpiFactorsFor(policy, year, asOf);
  // gas by site: a site may declare its supplier's heating value (its own coal equivalent and CO2 factor)
  const gasBySite = sites.map((site) => {
    const m3 = meters
      .filter((m) => m.siteId === site.id && m.role === 'gas' && m.metric === 'gas_m3')
      .reduce((s, m) => s + m.quantity, 0);
    const own = forSite(site, factors);
    return {
      m3,
      kgce: m3 * own.coal.gasKgcePerM3,
      co2T: gasCo2T({ gasM3: m3, factorKgPerM3: own.gasKgCo2PerM3 }),
    };
  });
  const gasM3 = gasBySite.reduce((s, g) => s + g.m3, 0);
  const gasKgce = gasBySite.reduce((s, g) => s + g.kgce, 0);
  const residual = factor({ kind: 'electricity_residual', year });
  const used = [
    factor({ kind: 'electricity_grid', year }),
    residual,
    factor({ kind: 'natural_gas' }),
    factor({ kind: 'coal_equivalent_electricity', method: 'calorific' }),
    factor({ kind: 'coal_equivalent_gas' }),
    ...(sites.some((site) => site.gasHeatingValueKjPerM3 !== undefined)
      ? [factor({ kind: 'natural_gas_ncv' })]
      : []),
    ...(heatKwh > 0 ? [heatFactor] : []),
  ].filter((f): f is Factor => f !== undefined);
  const tce = (kwhOrM3: number, kgcePer: number): number => round((kwhOrM3 * kgcePer) / 1000, 4);
  const carriers: CarrierLine[] = [
    {
      carrier: 'grid_electricity',
      unit: 'kWh',
      quantity: round(gridKwh),
      tce: tce(gridKwh, factors.coal.electricityKgcePerKwh),
    },
    {
      carrier: 'onsite_pv',
      unit: 'kWh',
      quantity: round(pvKwh),
      tce: tce(pvKwh, factors.coal.electricityKgcePerKwh),
    },
    {
      carrier: 'green_certificates',
      unit: 'kWh',
      quantity: round(certificateKwh),
      tce: tce(certificateKwh, factors.coal.electricityKgcePerKwh),
    },
    {
      carrier: 'green_power_contracts',
      unit: 'kWh',
      quantity: round(contractKwh),
      tce: tce(contractKwh, factors.coal.electricityKgcePerKwh),
    },
    {
      carrier: 'natural_gas',
      unit: 'm3',
      quantity: round(gasM3),
      tce: round(gasKgce / 1000, 4),
    },
    {
      carrier: 'purchased_heat',
      unit: 'kWh',
      quantity: round(heatKwh),
      tce: tce(heatKwh, factors.coal.heatKgcePerKwh),
    },
  ];
  const consumedElectricityKwh = gridKwh - exportedKwh + pvKwh;
  // comprehensive energy: electricity and heat at the coal equivalents, gas at each site's (gasKgce)
  const totalTce = round(
    (comprehensiveEnergyKgce({
      electricityKwh: consumedElectricityKwh,
      gasM3: 0,
      heatKwh,
      coefficients: factors.coal,
    }) +
      gasKgce) /
      1000,
    4,
  );
  // net purchased electricity: exports deducted at the grid factor (GB/T 32150; docs/domain.md, "CO2")
  const location = electricityCo2LocationT({
    importKwh: gridKwh,
    exportKwh: exportedKwh,
    factorKgPerKwh: factors.gridKgCo2PerKwh,
  });
  // market-based: green power bought at zero, the rest at the residual factor (the grid's where none is published)
  const market = electricityCo2MarketT({
    gridKwh: gridKwh - exportedKwh,
    greenPowerKwh: greenKwh,
    residualFactorKgPerKwh: residual?.value ?? factors.gridKgCo2PerKwh,
  });
  const direct = gasBySite.reduce((s, g) => s + g.co2T, 0);
  // purchased heat: kWh → GJ at the purchased-heat default
  const heat = heatCo2T({ heatGj: heatKwh * MJ_PER_KWH * GJ_PER_MJ, factorTPerGj: factors.heatTCo2PerGj });
  const totalLocation = direct + location + heat;
  const area = sites.reduce((s, site) => s + site.floorAreaM2, 0);
  const received = meters.reduce((s, m) => s + m.readingsReceived, 0);
  const expected = meters.reduce((s, m) => s + m.readingsExpected, 0);
  return {
    energy: {
      carriers,
      exportedKwh: round(exportedKwh),
      consumedElectricityKwh: round(consumedElectricityKwh),
      totalTce,
      greenPower,
    },
    emissions: {
      directT: round(direct, 4),
      indirectElectricityLocationT: round(location, 4),
      indirectElectricityMarketT: round(market, 4),
      heatT: round(heat, 4),
      totalLocationT: round(totalLocation, 4),
      totalMarketT: round(direct + market + heat, 4),
    },
    intensities: {
      energyKwhPerM2: area > 0 ? round(consumedElectricityKwh / area, 4) : null,
      co2KgPerM2: area > 0 ? round((totalLocation * 1000) / area, 4) : null,
      floorAreaM2: area,
      ...(inputs.output && inputs.output.quantity > 0
        ? {
            perOutput: {
              unit: inputs.output.unit,
              quantity: inputs.output.quantity,
              tcePerUnit: round(totalTce / inputs.output.quantity, 6),
              co2TPerUnit: round(totalLocation / inputs.output.quantity, 6),
            },
          }
        : {}),
    },
    factors: used.map((f) => ({
      id: f.id,
      kind: f.kind,
      ...(f.year !== undefined ? { year: f.year } : {}),
      value: f.value,
      unit: f.unit,
      source: f.source,
    })),
    completeness: expected > 0 ? round(Math.min(1, received / expected), 4) : 0,
  };
}
