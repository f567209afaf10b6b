import { join } from 'node:path';
import type { MetricName } from '@peakwatch/contracts';
import { loadPolicyData } from '@peakwatch/policy';
import type { Site } from '@peakwatch/registry';
import type { DeclaredInputs } from '@peakwatch/state';
import { reportFigures } from './report-figures';
import type { MeterLine, Report } from './report-schema';

// The factors of a 2026 period as published by its end (seeds/emission-factors): grid 0.5306 kgCO2/kWh (2023's, the
// latest), residual 0.6096, gas 2.162 kgCO2/m³ at 38,931 kJ/m³, electricity 0.1229 kgce/kWh, gas 1.2143 kgce/m³, heat
// 0.03412 kgce/MJ (0.122832 kgce/kWh) and 0.11 tCO2/GJ. Every expected figure below is worked by hand from these.
const policy = loadPolicyData(join(__dirname, '../../../seeds'));

/** The factors every report uses: grid and residual electricity, gas, and the coal equivalents of both. */
const ALWAYS_USED = [
  'cn-grid-2023',
  'cn-grid-residual-2023',
  'natural-gas-default',
  'electricity-calorific',
  'natural-gas-kgce',
];

const site = (id: string, floorAreaM2: number, more: Partial<Site> = {}): Site =>
  ({ id, floorAreaM2, ...more }) as Site;

const meter = (
  siteId: string,
  role: string,
  metric: MetricName,
  quantity: number,
  readings: [number, number] = [96, 96],
): MeterLine => ({
  siteId,
  deviceId: `${siteId}-${role}`,
  role,
  metric,
  unit: '',
  quantity,
  estimated: false,
  readingsReceived: readings[0],
  readingsExpected: readings[1],
  completeness: readings[0] / readings[1],
});

interface Case {
  name: string;
  sites: Site[];
  meters: MeterLine[];
  inputs?: DeclaredInputs;
  carriers: Record<string, [quantity: number, tce: number]>;
  totalTce: number;
  emissions: Report['emissions'];
  energyKwhPerM2: number | null;
  co2KgPerM2: number | null;
  factorIds: string[];
  completeness: number;
}

const zeroCarriers = {
  grid_electricity: [0, 0],
  onsite_pv: [0, 0],
  green_certificates: [0, 0],
  green_power_contracts: [0, 0],
  natural_gas: [0, 0],
  purchased_heat: [0, 0],
} satisfies Case['carriers'];

const cases: Case[] = [
  {
    name: 'every carrier: grid with exports, PV, gas, district heat, a certificate and a contract',
    sites: [site('s1', 1000)],
    meters: [
      meter('s1', 'grid', 'energy_import_kwh', 10_000),
      meter('s1', 'grid', 'energy_export_kwh', 1000),
      meter('s1', 'pv', 'energy_export_kwh', 2000),
      meter('s1', 'gas', 'gas_m3', 100, [90, 96]),
      meter('s1', 'heat_purchased', 'heat_kwh', 500, [48, 96]),
    ],
    inputs: {
      greenCertificates: 1,
      greenPower: [{ kind: 'contract', mwh: 2, evidenceId: 'PPA-1' }],
    },
    carriers: {
      grid_electricity: [10_000, 1.229], // 10,000 × 0.1229 / 1000
      onsite_pv: [2000, 0.2458],
      green_certificates: [1000, 0.1229],
      green_power_contracts: [2000, 0.2458],
      natural_gas: [100, 0.1214], // 100 × 1.2143 = 121.43 kgce
      purchased_heat: [500, 0.0614], // 500 × 0.122832 = 61.416 kgce
    },
    // consumed electricity 10,000 − 1000 + 2000 = 11,000 kWh: (11,000 × 0.1229 + 61.416 + 121.43) / 1000
    totalTce: 1.5347,
    emissions: {
      directT: 0.2162, // 100 × 2.162 / 1000
      indirectElectricityLocationT: 4.7754, // (10,000 − 1000) × 0.5306 / 1000
      indirectElectricityMarketT: 3.6576, // (9000 − 3000 green) × 0.6096 / 1000
      heatT: 0.198, // 500 kWh × 3.6 MJ = 1.8 GJ × 0.11
      totalLocationT: 5.1896,
      totalMarketT: 4.0718,
    },
    energyKwhPerM2: 11,
    co2KgPerM2: 5.1896,
    factorIds: [...ALWAYS_USED, 'purchased-heat-default'],
    // (96 + 96 + 96 + 90 + 48) / (5 × 96)
    completeness: 0.8875,
  },
  {
    name: "gas at a site's declared heating value (35,000 kJ/m³), beside a site at the default",
    sites: [site('s1', 1000, { gasHeatingValueKjPerM3: 35_000 }), site('s2', 3000)],
    meters: [meter('s1', 'gas', 'gas_m3', 100), meter('s2', 'gas', 'gas_m3', 100)],
    carriers: {
      ...zeroCarriers,
      // 100 × 35,000 / 29,307 = 119.4254 kgce, plus 121.43 at the default
      natural_gas: [200, 0.2409],
    },
    totalTce: 0.2409,
    emissions: {
      // 100 × 2.162 × 35,000 / 38,931 = 194.369 kg, plus 216.2 kg
      directT: 0.4106,
      indirectElectricityLocationT: 0,
      indirectElectricityMarketT: 0,
      heatT: 0,
      totalLocationT: 0.4106,
      totalMarketT: 0.4106,
    },
    energyKwhPerM2: 0,
    co2KgPerM2: 0.1026, // 410.569 kg / 4000 m²
    factorIds: [...ALWAYS_USED, 'natural-gas-default-ncv'],
    completeness: 1,
  },
  {
    name: 'more green power than the net purchase: market-based electricity at zero, never below',
    sites: [site('s1', 500)],
    meters: [meter('s1', 'grid', 'energy_import_kwh', 1600)],
    inputs: { greenPower: [{ kind: 'certificate', mwh: 2, evidenceId: 'GEC-1' }] },
    carriers: {
      ...zeroCarriers,
      grid_electricity: [1600, 0.1966], // 196.64 kgce
      green_certificates: [2000, 0.2458],
    },
    totalTce: 0.1966,
    emissions: {
      directT: 0,
      indirectElectricityLocationT: 0.849, // 1600 × 0.5306 = 848.96 kg
      indirectElectricityMarketT: 0,
      heatT: 0,
      totalLocationT: 0.849,
      totalMarketT: 0,
    },
    energyKwhPerM2: 3.2,
    co2KgPerM2: 1.6979,
    factorIds: ALWAYS_USED,
    completeness: 1,
  },
  {
    name: 'no meter line at all: zeros, and a completeness of 0 rather than a complete period',
    sites: [site('s1', 1000)],
    meters: [],
    carriers: zeroCarriers,
    totalTce: 0,
    emissions: {
      directT: 0,
      indirectElectricityLocationT: 0,
      indirectElectricityMarketT: 0,
      heatT: 0,
      totalLocationT: 0,
      totalMarketT: 0,
    },
    energyKwhPerM2: 0,
    co2KgPerM2: 0,
    factorIds: ALWAYS_USED,
    completeness: 0,
  },
];

describe('reportFigures', () => {
  it.each(cases)('$name', (c) => {
    const figures = reportFigures({
      meters: c.meters,
      sites: c.sites,
      inputs: c.inputs ?? {},
      policy,
      year: 2026,
      asOf: '2026-03-31',
    });
    expect(Object.fromEntries(figures.energy.carriers.map((l) => [l.carrier, [l.quantity, l.tce]]))).toEqual(
      c.carriers,
    );
    expect(figures.energy.totalTce).toBeCloseTo(c.totalTce, 4);
    for (const [key, value] of Object.entries(c.emissions))
      expect([key, figures.emissions[key as keyof Case['emissions']]]).toEqual([key, value]);
    expect(figures.intensities.energyKwhPerM2).toBe(c.energyKwhPerM2);
    expect(figures.intensities.co2KgPerM2).toBe(c.co2KgPerM2);
    expect(figures.factors.map((f) => f.id).sort()).toEqual([...c.factorIds].sort());
    expect(figures.completeness).toBe(c.completeness);
  });

  it('states intensities per unit of the declared output', () => {
    const figures = reportFigures({
      meters: [meter('s1', 'grid', 'energy_import_kwh', 10_000)],
      sites: [site('s1', 1000)],
      inputs: { output: { unit: 'rack', quantity: 40 } },
      policy,
      year: 2026,
      asOf: '2026-03-31',
    });
    // 1.229 tce and 5.306 t over 40 racks
    expect(figures.intensities.perOutput).toEqual({
      unit: 'rack',
      quantity: 40,
      tcePerUnit: 0.030725,
      co2TPerUnit: 0.13265,
    });
  });

  it('takes the factors published by `asOf`: in November 2024 the 2022 grid factor was not out yet', () => {
    const figures = reportFigures({
      meters: [meter('s1', 'grid', 'energy_import_kwh', 1000)],
      sites: [site('s1', 1000)],
      inputs: {},
      policy,
      year: 2024,
      asOf: '2024-11-30',
    });
    // 2021's 0.5568 kgCO2/kWh stands for the latest published
    expect(figures.emissions.indirectElectricityLocationT).toBe(0.5568);
    expect(figures.factors.map((f) => f.id)).toContain('cn-grid-2021');
  });
});
