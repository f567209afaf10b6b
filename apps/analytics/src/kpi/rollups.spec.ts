import { Registry, siteSchema } from '@peakwatch/registry';
import {
  AreaRollup,
  combineShares,
  shareResult,
  creditGreenPower,
  creditSeasonalHeatPumps,
  declarationPeriods,
  siteGreenPower,
  type CombinedKpi,
} from './rollups';
import type { KpiValue } from '@peakwatch/metering';

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

  /** What the sites of a run add, and what is not rolled up. */
  const added: [string, KpiValue][] = [
    ['a1', kpi('energy_kwh', 100, 100, 1)],
    ['a2', kpi('energy_kwh', 300, 300, 1, 0.5)],
    ['b1', kpi('energy_kwh', 50, 50, 1)],
    ['a2', kpi('pue', 1.5, 300, 200)],
    ['b1', kpi('energy_kwh', null, 0, 1, 0, { windowStartMs: W + 86_400_000 })],
    // per device or a peak: not rolled up over sites
    ['a1', kpi('cop', 3, 30, 10, 1, { category: 'a1-hp' })],
    ['a1', kpi('peak_demand_kw', 40, 40, 1)],
    // an unknown site has no district
    ['zz', kpi('energy_kwh', 7, 7, 1)],
  ];
  const expected = [
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
  ].sort();

  it('combines each district and the city from its sites, window by window', () => {
    const rollup = new AreaRollup(registry, '1d');
    for (const [siteId, k] of added) rollup.add(siteId, k);
    expect(rollup.lines().sort()).toEqual(expected);
  });

  it.each([
    ['a haidian site in each share', [['a1', 'b1', 'zz'], ['a2']]],
    [
      'a district in each share',
      [
        ['a1', 'a2'],
        ['b1', 'zz'],
      ],
    ],
    ['every site in one share, none in the other', [['a1', 'a2', 'b1', 'zz'], []]],
  ])('gives the same from the sums of shares of the sites, carried as JSON (%s)', (_, shares) => {
    // each replica's share, as `sites-<i>` results of the run's leases
    const results = new Map(
      shares.map((share, i) => {
        const rollup = new AreaRollup(registry, '1d');
        for (const [siteId, k] of added) if (share.includes(siteId)) rollup.add(siteId, k);
        return [`sites-${i}`, shareResult(share, [rollup])];
      }),
    );
    const combined = combineShares(registry, shares, results);
    expect(combined).not.toBe('read');
    expect((combined as AreaRollup[]).flatMap((r) => r.lines()).sort()).toEqual(expected);
  });

  it('reads the sites back when a share left no sums', () => {
    const results = new Map([['sites-0', shareResult(['a1', 'a2'], [new AreaRollup(registry, '1d')])]]);
    expect(combineShares(registry, [['a1', 'a2'], ['b1']], results)).toBe('read');
  });

  it('reads the sites back when a share left the sums of other sites (replicas with different registries)', () => {
    const results = new Map([
      ['sites-0', shareResult(['a1', 'a2'], [new AreaRollup(registry, '1d')])],
      // cut by a replica that knew b1 and a new site c1
      ['sites-1', shareResult(['b1', 'c1'], [new AreaRollup(registry, '1d')])],
    ]);
    expect(combineShares(registry, [['a1', 'a2'], ['b1']], results)).toBe('read');
    expect(
      combineShares(
        registry,
        [
          ['a1', 'a2'],
          ['b1', 'c1'],
        ],
        results,
      ),
    ).not.toBe('read');
  });

  it('refuses to merge the sums of another period', () => {
    expect(() => new AreaRollup(registry, '1d').merge(new AreaRollup(registry, '1h').partial())).toThrow(
      'a 1h roll-up merged into a 1d one',
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

describe('green power declared (certificates, green-power contracts)', () => {
  const Y = Date.UTC(2025, 11, 31, 16); // 2026-01-01 00:00 in Beijing
  const UTC8 = 8 * 3_600_000;
  const DAY = 86_400_000;
  const part = (entity: string, kpi: string, value: number | null, numerator: number, denominator: number) =>
    ({
      entity,
      kpi,
      windowStartMs: Y,
      value,
      numerator,
      denominator,
      completeness: 1,
      estimated: false,
      estimatedShare: 0,
      partCount: 12,
    }) as CombinedKpi;
  const factors = { electricityKgcePerKwh: 0.1229, generationKgcePerKwh: 0.3 };
  const of = (list: CombinedKpi[], entity: string, kpi: string) =>
    list.find((k) => k.entity === entity && k.kpi === kpi);

  it("credits a month with what was bought for it, up to its grid imports, in both shares' renewable energy", () => {
    // by hand: a data centre drew 300,000 kWh in the month, all of its 36.87 tce (calorific) or 90 tce (generation);
    // 200,000 kWh bought: 24.58 tce of 36.87, two thirds; 60 of 90, the same share (electricity only)
    const month = [
      part('dc', 'grid_import_kwh', 300_000, 300_000, 1),
      part('dc', 'renewable_share', 0, 0, 36.87),
      part('dc', 'renewable_share_generation', 0, 0, 90),
      // an office with PV, nothing declared: its metered share stays, and says so; its credit is 0
      part('pv', 'grid_import_kwh', 1000, 1000, 1),
      part('pv', 'renewable_share', 0.2, 10, 50),
    ];
    const green = (entity: string) => ({ declared: entity === 'dc', kwh: entity === 'dc' ? 200_000 : 0 });
    creditGreenPower(month, green, factors, true);
    expect(of(month, 'dc', 'renewable_share')!.numerator).toBeCloseTo(24.58, 9);
    expect(of(month, 'dc', 'renewable_share')).toMatchObject({ undeclared: false });
    expect(of(month, 'dc', 'renewable_share')!.value).toBeCloseTo(2 / 3, 12);
    expect(of(month, 'dc', 'renewable_share_generation')!.value).toBeCloseTo(60 / 90, 12);
    expect(of(month, 'dc', 'green_power_kwh')).toMatchObject({ value: 200_000, numerator: 200_000 });
    expect(of(month, 'pv', 'renewable_share')).toMatchObject({
      value: 0.2,
      numerator: 10,
      undeclared: false,
    });
    expect(of(month, 'pv', 'green_power_kwh')).toMatchObject({ value: 0 });
    // more bought than drawn: the month's imports, all of them, and no more
    const over = [
      part('dc', 'grid_import_kwh', 300_000, 300_000, 1),
      part('dc', 'renewable_share', 0, 0, 36.87),
    ];
    creditGreenPower(over, () => ({ declared: true, kwh: 500_000 }), factors, true);
    expect(over[1]!.value).toBeCloseTo(1, 12);
    expect(of(over, 'dc', 'green_power_kwh')!.value).toBe(300_000);
  });

  it('credits nothing more in a year (its months hold their credits), and says "not declared" instead of a 0', () => {
    const year = [
      part('dc', 'grid_import_kwh', 3_500_000, 3_500_000, 1),
      part('dc', 'renewable_share', 0, 0, 430.15),
      part('empty', 'renewable_share', null, 0, 0),
    ];
    creditGreenPower(year, () => ({ declared: false, kwh: 0 }), factors, false);
    expect(of(year, 'dc', 'renewable_share')).toMatchObject({
      value: 0,
      undeclared: true,
      denominator: 430.15,
    });
    expect(of(year, 'dc', 'green_power_kwh')).toBeUndefined();
    expect(of(year, 'empty', 'renewable_share')!.undeclared).toBeUndefined(); // no data: no value, for that reason
    // declared (none bought): a share of 0
    const none = [
      part('dc', 'grid_import_kwh', 3_500_000, 3_500_000, 1),
      part('dc', 'renewable_share', 0, 0, 430.15),
    ];
    creditGreenPower(none, () => ({ declared: true, kwh: 0 }), factors, false);
    expect(none[1]).toMatchObject({ value: 0, undeclared: false });
  });

  it("gives a month its own declarations and a twelfth of its year's; a year or 12 months are declared by either", () => {
    const months = ['01', '02', '03', '04', '05', '06', '07', '08', '09', '10', '11', '12'].map(
      (m) => `2026-${m}`,
    );
    expect(declarationPeriods('1mo', Date.UTC(2026, 1, 28, 16), UTC8)).toEqual({
      covering: ['2026-03', '2026'],
      counted: [
        { period: '2026-03', share: 1 },
        { period: '2026', share: 1 / 12 },
      ],
    });
    expect(declarationPeriods('1y', Y, UTC8)).toEqual({ covering: ['2026', ...months], counted: [] });
    // a rolling 12 months from July 2025: its months and both years
    expect(declarationPeriods('rolling_12mo', Date.UTC(2025, 5, 30, 16), UTC8)).toEqual({
      covering: [
        '2025',
        '2026',
        ...['07', '08', '09', '10', '11', '12'].map((m) => `2025-${m}`),
        ...['01', '02', '03', '04', '05', '06'].map((m) => `2026-${m}`),
      ],
      counted: [],
    });
  });

  it("gives a site its own purchases, and its organisation's only when it is the organisation's one site", () => {
    const withOrg = (id: string, org: string) =>
      siteSchema.parse({
        id,
        name: id,
        district: 'haidian',
        type: 'data_centre',
        floorAreaM2: 1000,
        commissionedOn: '2025-01-01',
        emitter: { id: org, name: org, keyEmitter: true },
        devices: [{ id: `${id}-total`, kind: 'electricity_meter', role: 'dc_total' }],
      });
    const registry = new Registry([withOrg('solo', 'one'), withOrg('m1', 'many'), withOrg('m2', 'many')]);
    const declarations = [
      { orgId: 'one', period: '2026', inputs: { greenCertificates: 600 } },
      {
        orgId: 'one',
        period: '2026-03',
        inputs: { greenPower: [{ kind: 'contract' as const, mwh: 250, evidenceId: 'BJ-PX-2026-0042' }] },
      },
      {
        orgId: 'many',
        period: '2026',
        inputs: {
          greenCertificates: 100, // without a site: counts in the report, not in a site's KPI
          greenPower: [{ kind: 'certificate' as const, mwh: 48, evidenceId: 'GEC 1234567', siteId: 'm2' }],
        },
      },
      { orgId: 'many', period: '2026-02', inputs: { greenPower: [] } }, // none bought, for every site
      { orgId: 'one', period: '2025', inputs: { greenCertificates: 999 } }, // another year
    ];
    const at = (site: string, period: '1mo' | '1y', startMs: number) =>
      siteGreenPower(registry.site(site), registry, declarationPeriods(period, startMs, UTC8), declarations);
    const [jan, feb, mar] = [Y, Y + 31 * DAY, Y + 59 * DAY];
    // by hand: March's 250 MWh and a twelfth of the year's 600 certificates: 250,000 + 50,000 kWh
    expect(at('solo', '1mo', mar)).toEqual({ declared: true, kwh: 300_000 });
    expect(at('solo', '1mo', jan)).toEqual({ declared: true, kwh: 50_000 });
    expect(at('solo', '1y', Y)).toEqual({ declared: true, kwh: 0 }); // through its months
    // a twelfth of the 48 MWh named for m2; m1 named by no purchase, and the organisation has several sites
    expect(at('m2', '1mo', jan).kwh).toBeCloseTo(4000, 9);
    expect(at('m1', '1mo', jan)).toEqual({ declared: false, kwh: 0 });
    // February's declaration of none speaks for every site: m1's February is declared, a share of 0
    expect(at('m1', '1mo', feb)).toEqual({ declared: true, kwh: 0 });
    // nothing declared for 2027
    expect(at('solo', '1y', Y + 365 * DAY)).toEqual({ declared: false, kwh: 0 });
  });
});
