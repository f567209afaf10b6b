import { Registry, siteSchema } from '@peakwatch/registry';
import { AreaRollup } from './rollups';
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
