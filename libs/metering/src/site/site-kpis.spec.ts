import type { MetricName } from '@peakwatch/contracts';
import type { KpiFactors } from '../factors';
import type { KpiValue } from '../kpi-store';
import { emptySum, type DeviceEnergy } from '../meter-read';
import type { Site } from '@peakwatch/registry';
import { siteKpis } from './site-kpis';

// Round factors, so that every expected value below is worked out by hand: grid 0.5 kgCO2/kWh, gas 2 kgCO2/m³,
// purchased heat 0.1 tCO2/GJ (0.36 kgCO2/kWh), coal equivalents 0.1 kgce/kWh, 1.2 kgce/m³, 0.12 kgce/kWh of heat,
// 0.3 kgce/kWh by the generation method; heat pumps count above an SPF of 2.5; data centres commissioned from 2025
// step their renewable target 10 points a year; a baseline year's grid factor is 1.0.
const factors: KpiFactors = {
  gridKgCo2PerKwh: 0.5,
  gasKgCo2PerM3: 2,
  heatTCo2PerGj: 0.1,
  gasNcvKjPerM3: 36_000,
  coal: { electricityKgcePerKwh: 0.1, gasKgcePerM3: 1.2, heatKgcePerKwh: 0.12 },
  generationKgcePerKwh: 0.3,
  heatPumpMinSpf: 2.5,
  baselineCo2: () => ({ gridKgCo2PerKwh: 1, gasKgCo2PerM3: 2, heatTCo2PerGj: 0.1 }),
  dcRenewableTrajectory: { stepPerYear: 0.1, appliesFrom: '2025-01-01' },
};

/** A Monday in January 2026, 00:00 UTC: windows of a day or an hour from here (the spec's own period). */
const START = Date.UTC(2026, 0, 5);
const SIZE: Record<'1h' | '1d', number> = { '1h': 3_600_000, '1d': 86_400_000 };

/** A device of the site (readings every 15 minutes) and its energy in the window at START. */
function device(
  id: string,
  role: string,
  energy: Partial<
    Record<MetricName, number | { energy: number; estimatedEnergy?: number; quarters?: number[] }>
  >,
  {
    readings,
    kind = 'electricity_meter',
    peakPowerKwp,
  }: { readings: number; kind?: string; peakPowerKwp?: number },
): DeviceEnergy {
  const windows = new Map<MetricName, Map<number, ReturnType<typeof emptySum>>>();
  for (const [metric, e] of Object.entries(energy)) {
    const x = typeof e === 'number' ? { energy: e } : e;
    windows.set(
      metric as MetricName,
      new Map([
        [
          START,
          {
            ...emptySum(),
            energy: x.energy,
            estimatedEnergy: x.estimatedEnergy ?? 0,
            estimated: (x.estimatedEnergy ?? 0) > 0,
            known: readings,
            quarters: x.quarters ?? [],
          },
        ],
      ]),
    );
  }
  return {
    device: {
      id,
      role,
      kind,
      readingIntervalSeconds: 900,
      ...(peakPowerKwp ? { peakPowerKwp } : {}),
    } as never,
    windows,
    readingsByWindow: new Map(readings > 0 ? [[START, readings]] : []),
    batchesByWindow: new Map(),
  };
}

const office = {
  id: 'office',
  type: 'office',
  floorAreaM2: 1000,
  commissionedOn: '2010-01-01',
  baseline: { year: 2020, carbonKgPerM2: 50 },
} as unknown as Site;
const dataCentre = {
  id: 'dc',
  type: 'data_centre',
  floorAreaM2: 2000,
  commissionedOn: '2025-06-01',
} as unknown as Site;

const officeDevices = [
  device(
    'grid',
    'grid',
    { energy_import_kwh: { energy: 100, quarters: [1, 2, 6, 3] }, energy_export_kwh: 10 },
    {
      readings: 96,
    },
  ),
  device('pv', 'pv', { energy_export_kwh: 30 }, { readings: 96, kind: 'pv_inverter', peakPowerKwp: 20 }),
  device('gas', 'gas', { gas_m3: 5 }, { readings: 48, kind: 'gas_meter' }),
  device('hp', 'hp', { heat_kwh: 300, energy_import_kwh: 100 }, { readings: 96, kind: 'heat_pump' }),
  device('light', 'lighting_sockets', { energy_import_kwh: 40 }, { readings: 96 }),
  // a weather station has no register: never expected, never in the completeness
  device('wx', 'weather', {}, { readings: 0, kind: 'weather_station' }),
];

/** The KPIs of an office with a grid meter over a day: its energy, intensities, CO2, shares, and its meters' quality. */
const GRID_DAY = [
  'energy_kwh',
  'eui_kwh_m2',
  'co2_t',
  'co2_baseline_factors_t',
  'grid_import_kwh',
  'energy_kgce',
  'energy_kgce_m2',
  'renewable_share',
  'renewable_share_generation',
  'peak_demand_kw',
  'register_anomalies',
  'meter_completeness',
];

/** [kpi, category or '', value] of each KPI the case must give; `only` lists every KPI name it gives. */
interface Case {
  name: string;
  site: Site;
  devices: DeviceEnergy[];
  period: '1h' | '1d';
  values: [kpi: string, category: string, value: number | null][];
  only: string[];
  basis?: [kpi: string, estimated: boolean, estimatedShare: number][];
  completeness?: number;
}

const cases: Case[] = [
  {
    name: 'an office: grid with exports, PV, gas, a heat pump and a sub-metered category, over a day',
    site: office,
    devices: officeDevices,
    period: '1d',
    values: [
      ['energy_kwh', '', 120], // 100 − 10 + 30
      ['pv_yield_kwh_kwp', '', 1.5], // 30 kWh / 20 kWp
      ['eui_kwh_m2', '', 0.12], // 120 / 1000 m²
      ['co2_t', '', 0.055], // (100 − 10) × 0.5 + 5 × 2 = 55 kg
      ['co2_baseline_factors_t', '', 0.1], // 90 × 1.0 + 10 = 100 kg
      ['grid_import_kwh', '', 100],
      ['energy_kgce', '', 18], // 120 × 0.1 + 5 × 1.2
      ['energy_kgce_m2', '', 0.018],
      ['cop', 'hp', 3], // 300 / 100
      ['heat_pump_renewable_kwh', 'hp', 200], // 300 × (1 − 1/3), SPF 3 > 2.5
      // renewable: PV consumed (30 − 10) × 0.1 + 200 × 0.12 = 26 kgce; total 12 + 6 + 200 × 0.12 = 42 kgce
      ['renewable_share', '', 26 / 42],
      // by the generation method: 20 × 0.3 + 24 = 30 kgce of 120 × 0.3 + 6 + 24 = 66
      ['renewable_share_generation', '', 30 / 66],
      ['energy_kwh', 'lighting_sockets', 40],
      ['peak_demand_kw', '', 24], // the largest quarter, 6 kWh, × 4
      ['register_anomalies', '', 0],
      ['meter_completeness', 'gas', 0.5],
      ['meter_completeness', 'grid', 1],
    ],
    only: [...GRID_DAY, 'cop', 'heat_pump_renewable_kwh', 'pv_yield_kwh_kwp'],
    // (96 × 4 + 48) readings of 5 × 96: the weather station owes none
    completeness: 0.9,
  },
  {
    name: 'the same office over an hour: no KPI that is meant per day or longer',
    site: office,
    devices: officeDevices,
    period: '1h',
    values: [['energy_kwh', '', 120]],
    only: [
      'energy_kwh',
      'pv_yield_kwh_kwp',
      'co2_t',
      'grid_import_kwh',
      'energy_kgce',
      'cop',
      'heat_pump_renewable_kwh',
      'renewable_share',
      'renewable_share_generation',
      'peak_demand_kw',
    ],
  },
  {
    name: 'a data centre commissioned in 2025: PUE, its CO2 with purchased heat, and its renewable target for 2026',
    site: dataCentre,
    devices: [
      device(
        'total',
        'dc_total',
        { energy_import_kwh: { energy: 1000, quarters: [10, 12] } },
        { readings: 96 },
      ),
      device('it', 'dc_it', { energy_import_kwh: 800 }, { readings: 96 }),
      device('heat', 'heat_purchased', { heat_kwh: 100 }, { readings: 96, kind: 'heat_meter' }),
    ],
    period: '1d',
    values: [
      ['energy_kwh', '', 1000],
      ['pue', '', 1.25], // 1000 / 800
      ['co2_t', '', 0.536], // 1000 × 0.5 + 100 × 0.36 = 536 kg
      ['energy_kgce', '', 112], // 1000 × 0.1 + 100 × 0.12
      ['grid_import_kwh', '', 1000],
      ['renewable_share', '', 0],
      ['renewable_share_generation', '', 0],
      ['renewable_share_target', '', 0.1], // one year after commissioning × 10 points
      ['peak_demand_kw', '', 48],
    ],
    only: [
      'energy_kwh',
      'pue',
      'co2_t',
      'energy_kgce',
      'grid_import_kwh',
      'renewable_share',
      'renewable_share_generation',
      'renewable_share_target',
      'peak_demand_kw',
      'register_anomalies',
      'meter_completeness',
    ],
    completeness: 1,
  },
  {
    name: 'a window without a reading: no value, never a zero one, and a completeness of 0',
    site: office,
    devices: [device('grid', 'grid', {}, { readings: 0 })],
    period: '1d',
    values: [
      ['energy_kwh', '', null],
      ['co2_t', '', null],
      ['eui_kwh_m2', '', null],
      ['renewable_share', '', null],
      ['register_anomalies', '', null],
      ['meter_completeness', 'grid', 0],
      ['peak_demand_kw', '', null],
    ],
    only: GRID_DAY,
    completeness: 0,
  },
  {
    name: 'energy spread over a gap: estimated, with the share of the energy that was spread',
    site: office,
    devices: [
      device('grid', 'grid', { energy_import_kwh: { energy: 100, estimatedEnergy: 25 } }, { readings: 60 }),
      device('pv', 'pv', { energy_export_kwh: 100 }, { readings: 96, kind: 'pv_inverter', peakPowerKwp: 50 }),
    ],
    period: '1d',
    values: [['energy_kwh', '', 200]],
    only: [...GRID_DAY, 'pv_yield_kwh_kwp'],
    basis: [
      ['energy_kwh', true, 0.125], // 25 of 200 kWh
      ['grid_import_kwh', true, 0.25], // 25 of 100
      ['pv_yield_kwh_kwp', false, 0],
    ],
    completeness: 156 / 192,
  },
];

describe('siteKpis', () => {
  it.each(cases)('$name', (c) => {
    const out = siteKpis({
      site: c.site,
      devices: c.devices,
      fromMs: START,
      toMs: START + SIZE[c.period],
      period: c.period,
      utcOffsetMs: 0,
      factors,
    });
    const find = (kpi: string, category: string): KpiValue | undefined =>
      out.find((k) => k.kpi === kpi && (k.category ?? '') === category);
    expect([...new Set(out.map((k) => k.kpi))].sort()).toEqual([...c.only].sort());
    for (const [kpi, category, value] of c.values) {
      const k = find(kpi, category);
      expect([kpi, category, k === undefined ? 'missing' : 'given']).toEqual([kpi, category, 'given']);
      if (value === null) expect([kpi, k!.value]).toEqual([kpi, null]);
      else expect([kpi, k!.value! - value]).toEqual([kpi, expect.closeTo(0, 9)]);
    }
    for (const [kpi, estimated, share] of c.basis ?? [])
      expect([kpi, find(kpi, '')!.estimated, find(kpi, '')!.estimatedShare]).toEqual([kpi, estimated, share]);
    if (c.completeness !== undefined)
      expect(find('energy_kwh', '')!.completeness).toBeCloseTo(c.completeness, 9);
    expect(out.every((k) => k.windowStartMs === START)).toBe(true);
  });
});
