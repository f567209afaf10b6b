import type { MetricName } from '@peakwatch/contracts';
import type { KpiFactors } from '../factors';
import type { KpiValue } from '../kpi-store';
import { emptySum, type DeviceEnergy } from '../meter-read';
import { Tariffs, tariffFileSchema, tariffsOf } from '@peakwatch/policy';
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

const QUARTER = 900_000;
/** A quarter hour's energy, measured, or with `estimatedKwh` of it spread over a gap. */
const quarter = (startMs: number, energy: number, estimatedKwh = 0) => ({
  startMs,
  energy,
  estimatedEnergy: estimatedKwh,
  estimated: estimatedKwh > 0,
  unknown: 0,
});

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
            quarters: (x.quarters ?? []).map((kwh, i) => quarter(START + i * QUARTER, kwh)),
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
  'load_factor',
  'register_anomalies',
  'meter_completeness',
  'cost_cny', // without a value: the office declares no tariff
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
      ['load_factor', '', 100 / (24 * 24)], // 100 kWh over 24 kW for 24 h
      ['cost_cny', '', null],
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
      'cost_cny',
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
      ['load_factor', '', 1000 / (48 * 24)],
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
      'load_factor',
      'register_anomalies',
      'meter_completeness',
      'cost_cny',
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
      ['load_factor', '', null],
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

describe('siteKpis: cost by time-of-use band, worked out by hand', () => {
  // a division of the spec's own (UTC, offset 0): valley 00–08, peak 08–12, flat 12–24; critical 10:00–11:00 in
  // January. Tariff `with-critical` prices critical; `without` does not (its critical hours are peak). Prices double
  // from 6 January 2026 (a second version), so the first day keeps the first version's.
  const tariffs = tariffsOf(
    [
      {
        file: 'spec',
        value: tariffFileSchema.parse({
          divisions: [
            {
              id: 'd',
              validFrom: '2025-01-01',
              source: 'spec',
              verified: true,
              bands: [
                { from: '00:00', to: '08:00', band: 'valley' },
                { from: '08:00', to: '12:00', band: 'peak' },
                { from: '12:00', to: '24:00', band: 'flat' },
              ],
              critical: [{ months: [1], from: '10:00', to: '11:00' }],
            },
          ],
          tariffs: [
            {
              id: 'with-critical',
              name: 'spec',
              customerClass: 'single_part',
              voltage: '1_10kv',
              versions: [
                {
                  validFrom: '2025-01-01',
                  source: 'spec',
                  verified: true,
                  prices: { critical: 2, peak: 1.5, flat: 1, valley: 0.5 },
                },
                {
                  validFrom: '2026-01-06',
                  source: 'spec',
                  verified: true,
                  prices: { critical: 4, peak: 3, flat: 2, valley: 1 },
                },
              ],
            },
            {
              id: 'without',
              name: 'spec',
              customerClass: 'single_part',
              voltage: 'below_1kv',
              versions: [
                {
                  validFrom: '2025-01-01',
                  source: 'spec',
                  verified: true,
                  prices: { peak: 1.5, flat: 1, valley: 0.5 },
                },
              ],
            },
            {
              id: 'later',
              name: 'spec',
              customerClass: 'single_part',
              voltage: 'below_1kv',
              versions: [
                {
                  validFrom: '2026-01-06',
                  source: 'spec',
                  verified: true,
                  prices: { peak: 1.5, flat: 1, valley: 0.5 },
                },
              ],
            },
          ],
        }),
      },
    ],
    [],
  );
  const H = 3_600_000;
  const DAY = 24 * H;
  /**
   * The grid meter's quarters on 5 January: 4 kWh at 02:00 (valley), 2 at 08:00 (peak), 1 at 10:00 and 2 at 10:15
   * (critical; the second spread over a gap), 3 at 13:00 (flat); the same again on 6 January.
   */
  const day = (d: number) => [
    quarter(START + d * DAY + 2 * H, 4),
    quarter(START + d * DAY + 8 * H, 2),
    quarter(START + d * DAY + 10 * H, 1),
    quarter(START + d * DAY + 10.25 * H, 2, 2),
    quarter(START + d * DAY + 13 * H, 3),
  ];
  const grid = (quarters: ReturnType<typeof day>[]): DeviceEnergy => ({
    device: { id: 'grid', role: 'grid', kind: 'electricity_meter', readingIntervalSeconds: 900 } as never,
    windows: new Map([
      [
        'energy_import_kwh',
        new Map(
          quarters.map((qs, d) => [
            START + d * DAY,
            {
              ...emptySum(),
              energy: qs.reduce((e, q) => e + q.energy, 0),
              estimatedEnergy: qs.reduce((e, q) => e + q.estimatedEnergy, 0),
              estimated: qs.some((q) => q.estimated),
              known: qs.length,
              quarters: qs,
            },
          ]),
        ),
      ],
    ]),
    readingsByWindow: new Map(quarters.map((qs, d) => [START + d * DAY, qs.length])),
    batchesByWindow: new Map(),
  });
  const costs = (tariff: string | undefined, quarters: ReturnType<typeof day>[], withTariffs = tariffs) =>
    siteKpis({
      site: { ...office, ...(tariff ? { tariff } : {}) },
      devices: [grid(quarters)],
      fromMs: START,
      toMs: START + quarters.length * DAY,
      period: '1d',
      utcOffsetMs: 0,
      factors: { ...factors, tariffs: withTariffs },
    }).filter((k) =>
      ['cost_cny', 'avg_price_cny_kwh', 'peak_band_share', 'peak_hours_load_kw'].includes(k.kpi),
    );
  const of = (out: KpiValue[], kpi: string, category?: string, dayIndex = 0) =>
    out.find((k) => k.kpi === kpi && k.category === category && k.windowStartMs === START + dayIndex * DAY);

  it('prices each quarter at its band: critical where the tariff has it, and flags the estimated quarter', () => {
    const out = costs('with-critical', [day(0)]);
    // 4 × 0.5 + 2 × 1.5 + (1 + 2) × 2 + 3 × 1 = 14 CNY for 12 kWh
    expect(of(out, 'cost_cny')).toMatchObject({ value: 14, estimated: true });
    expect(of(out, 'cost_cny')!.estimatedShare).toBeCloseTo(4 / 14, 12); // the spread 2 kWh at 2 CNY
    expect(of(out, 'cost_cny', 'critical')!.value).toBe(6);
    expect(of(out, 'cost_cny', 'peak')!.value).toBe(3);
    expect(of(out, 'cost_cny', 'flat')!.value).toBe(3);
    expect(of(out, 'cost_cny', 'valley')!.value).toBe(2);
    expect(of(out, 'avg_price_cny_kwh')!.value).toBeCloseTo(14 / 12, 12);
    // 5 of 12 kWh in the peak bands (08:00, 10:00, 10:15), over their 0.75 h: 6.67 kW
    expect(of(out, 'peak_band_share')!.value).toBeCloseTo(5 / 12, 12);
    expect(of(out, 'peak_hours_load_kw')!.value).toBeCloseTo(5 / 0.75, 12);
  });

  it('prices the critical hours at peak for a tariff without a critical price', () => {
    // 4 × 0.5 + (2 + 1 + 2) × 1.5 + 3 × 1 = 12.5
    const out = costs('without', [day(0)]);
    expect(of(out, 'cost_cny')!.value).toBe(12.5);
    expect(of(out, 'cost_cny', 'critical')).toBeUndefined();
  });

  it('a new price version prices the days from its date, never the days before', () => {
    const out = costs('with-critical', [day(0), day(1)]);
    expect(of(out, 'cost_cny', undefined, 0)!.value).toBe(14);
    expect(of(out, 'cost_cny', undefined, 1)!.value).toBe(28); // every price doubled from 6 January
  });

  it('zero energy costs zero; no data has no cost; no tariff says so, never 0', () => {
    const zero = costs('with-critical', [[quarter(START + 9 * H, 0)]]);
    expect(of(zero, 'cost_cny')!.value).toBe(0);
    expect(of(zero, 'avg_price_cny_kwh')!.value).toBeNull();
    expect(of(costs('with-critical', [[]]), 'cost_cny')).toMatchObject({ value: null });
    expect(of(costs('with-critical', [[]]), 'cost_cny')!.noTariff).toBeUndefined();
    for (const out of [
      costs(undefined, [day(0)]), // no tariff declared
      costs('later', [day(0)]), // none in force yet on 5 January (from the 6th)
      costs('with-critical', [day(0)], new Tariffs()), // no tariffs loaded
    ]) {
      expect(out.map((k) => [k.kpi, k.category, k.value, k.noTariff])).toEqual([
        ['cost_cny', undefined, null, true],
      ]);
    }
  });
});
