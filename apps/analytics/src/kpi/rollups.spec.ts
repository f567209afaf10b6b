import { Registry, siteSchema } from '@peakwatch/registry';
import { AreaRollup, creditSeasonalHeatPumps, type CombinedKpi } from './rollups';
import type { KpiValue } from './site-kpis';

const W = Date.UTC(2026, 10, 20, 16); // 2026-11-21 00:00 in Beijing
const site = (id: string, district: string, type: string) =>
  siteSchema.parse({
    id,
    name: id,
    district,
    type,
    floorAreaM2: 1000,
    commissionedOn: '2020-01-01',
    devices: [{ id: `${id}-grid`, kind: 'electricity_meter', role: 'grid' }],
  });
const kpi = (
  name: string,
  value: number | null,
  numerator: number,
  denominator: number,
  completeness = 1,
  extra: Partial<KpiValue> = {},
): KpiValue => ({
  kpi: name,
  windowStartMs: W,
  value,
  numerator,
  denominator,
  completeness,
  estimated: false,
  estimatedShare: 0,
  ...extra,
});

describe('AreaRollup', () => {
  const registry = new Registry([
    site('a1', 'haidian', 'office'),
    site('a2', 'haidian', 'data_centre'),
    site('b1', 'chaoyang', 'office'),
  ]);

  it('combines each district and the city from its sites, window by window', () => {
    const rollup = new AreaRollup(registry, '1d');
    rollup.add('a1', kpi('energy_kwh', 100, 100, 1));
    rollup.add('a2', kpi('energy_kwh', 300, 300, 1, 0.5));
    rollup.add('b1', kpi('energy_kwh', 50, 50, 1));
    rollup.add('a2', kpi('pue', 1.5, 300, 200));
    rollup.add('b1', kpi('energy_kwh', null, 0, 1, 0, { windowStartMs: W + 86_400_000 }));
    // per device or a peak: not rolled up over sites
    rollup.add('a1', kpi('cop', 3, 30, 10, 1, { category: 'a1-hp' }));
    rollup.add('a1', kpi('peak_demand_kw', 40, 40, 1));
    // an unknown site has no district
    rollup.add('zz', kpi('energy_kwh', 7, 7, 1));
    expect(rollup.lines().sort()).toEqual(
      [
        // haidian: 100 + 300 kWh, completeness (1 + 0.5) / 2; PUE of its one data centre
        `kpi,entity=haidian,kpi=energy_kwh,period=1d,scope=district value=400,numerator=400,denominator=1,completeness=0.75,estimated=false,estimated_share=0 ${W}`,
        `kpi,entity=haidian,kpi=pue,period=1d,scope=district value=1.5,numerator=300,denominator=200,completeness=1,estimated=false,estimated_share=0 ${W}`,
        `kpi,entity=chaoyang,kpi=energy_kwh,period=1d,scope=district value=50,numerator=50,denominator=1,completeness=1,estimated=false,estimated_share=0 ${W}`,
        // the next day: no data anywhere in chaoyang, so no value (never 0)
        `kpi,entity=chaoyang,kpi=energy_kwh,period=1d,scope=district numerator=0,denominator=1,completeness=0,estimated=false,estimated_share=0 ${W + 86_400_000}`,
        // the city: 450 kWh, completeness (1 + 0.5 + 1) / 3
        `kpi,entity=beijing,kpi=energy_kwh,period=1d,scope=city value=450,numerator=450,denominator=1,completeness=${2.5 / 3},estimated=false,estimated_share=0 ${W}`,
        `kpi,entity=beijing,kpi=pue,period=1d,scope=city value=1.5,numerator=300,denominator=200,completeness=1,estimated=false,estimated_share=0 ${W}`,
        `kpi,entity=beijing,kpi=energy_kwh,period=1d,scope=city numerator=0,denominator=1,completeness=0,estimated=false,estimated_share=0 ${W + 86_400_000}`,
      ].sort(),
    );
  });
});

describe('creditSeasonalHeatPumps', () => {
  const Y = Date.UTC(2025, 11, 31, 16); // 2026-01-01 00:00 in Beijing
  const combined = (
    entity: string,
    kpi: string,
    numerator: number,
    denominator: number,
    category?: string,
    partCount = 12,
  ) =>
    ({
      entity,
      kpi,
      ...(category ? { category } : {}),
      windowStartMs: Y,
      value:
        denominator === 0 ? null : kpi === 'heat_pump_renewable_kwh' ? numerator : numerator / denominator,
      numerator,
      denominator,
      completeness: 1,
      estimated: false,
      estimatedShare: 0,
      partCount,
    }) satisfies CombinedKpi;

  it("credits each heat pump of a year by the year's SPF, and moves the site's renewable share by the difference", () => {
    // by hand (EU RED Annex VII, minimum SPF 2.5, heat at 0.122832 kgce/kWh):
    // s1-hp: Q 55,000 and W 20,000 kWh over the year, SPF 2.75 > 2.5: 55,000 × (1 − 1/2.75) = 35,000 kWh, where its
    //   months' own credits added up to 25,000; the site gains 10,000 kWh × 0.122832 = 1.22832 tce in both its
    //   renewable and total energy: (5 + 1.22832) / (50 + 1.22832)
    // s2-hp: Q 55,000 and W 25,000 kWh, SPF 2.2 ≤ 2.5: nothing, where its months added up to 10,000 kWh; the site
    //   loses 1.22832 tce from both: (4 − 1.22832) / (40 − 1.22832)
    const kpis = [
      combined('s1', 'cop', 55_000, 20_000, 's1-hp'),
      combined('s1', 'heat_pump_renewable_kwh', 25_000, 1, 's1-hp'),
      combined('s1', 'renewable_share', 5, 50),
      combined('s1', 'renewable_share_generation', 8, 60),
      combined('s1', 'energy_kwh', 100_000, 1),
      combined('s2', 'cop', 55_000, 25_000, 's2-hp'),
      combined('s2', 'heat_pump_renewable_kwh', 10_000, 1, 's2-hp'),
      combined('s2', 'renewable_share', 4, 40),
    ];
    creditSeasonalHeatPumps(kpis, { minSpf: 2.5, heatKgcePerKwh: 0.122832 });
    const get = (entity: string, kpi: string) => kpis.find((k) => k.entity === entity && k.kpi === kpi)!;
    expect(get('s1', 'heat_pump_renewable_kwh')).toMatchObject({ value: 35_000, numerator: 35_000 });
    expect(get('s2', 'heat_pump_renewable_kwh')).toMatchObject({ value: 0, numerator: 0 });
    expect(get('s1', 'renewable_share').numerator).toBeCloseTo(6.22832, 9);
    expect(get('s1', 'renewable_share').denominator).toBeCloseTo(51.22832, 9);
    expect(get('s1', 'renewable_share').value).toBeCloseTo(6.22832 / 51.22832, 12);
    expect(get('s2', 'renewable_share').value).toBeCloseTo((4 - 1.22832) / (40 - 1.22832), 12);
    // the generation method's share takes the same heat at the same coal equivalent of heat
    expect(get('s1', 'renewable_share_generation').value).toBeCloseTo(9.22832 / 61.22832, 12);
    // nothing else moves
    expect(get('s1', 'energy_kwh')).toMatchObject({ value: 100_000, numerator: 100_000 });
    expect(get('s1', 'cop')).toMatchObject({ value: 2.75, numerator: 55_000, denominator: 20_000 });
  });

  it('leaves a heat pump alone when its credit does not cover the months of its heat, or the share lacks one', () => {
    // months stored before the credit series existed: 12 months of heat, credits of 3; a share of 11 months
    const kpis = [
      combined('s1', 'cop', 55_000, 20_000, 's1-hp'),
      combined('s1', 'heat_pump_renewable_kwh', 6_000, 1, 's1-hp', 3),
      combined('s1', 'renewable_share', 5, 50),
      combined('s2', 'cop', 55_000, 20_000, 's2-hp'),
      combined('s2', 'heat_pump_renewable_kwh', 25_000, 1, 's2-hp'),
      combined('s2', 'renewable_share', 4, 40, undefined, 11),
    ];
    creditSeasonalHeatPumps(kpis, { minSpf: 2.5, heatKgcePerKwh: 0.122832 });
    const get = (entity: string, kpi: string) => kpis.find((k) => k.entity === entity && k.kpi === kpi)!;
    expect(get('s1', 'heat_pump_renewable_kwh').numerator).toBe(6_000);
    expect(get('s2', 'heat_pump_renewable_kwh').numerator).toBe(25_000);
    expect(get('s1', 'renewable_share')).toMatchObject({ value: 5 / 50, numerator: 5, denominator: 50 });
    expect(get('s2', 'renewable_share')).toMatchObject({ value: 4 / 40, numerator: 4, denominator: 40 });
  });
});
