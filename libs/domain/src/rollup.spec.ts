import { KpiCombination, combineKpi, type KpiParts } from './rollup';

const part = (
  value: number | null,
  numerator: number,
  denominator: number,
  completeness = 1,
  estimated = false,
  estimatedShare = 0,
): KpiParts => ({
  value,
  numerator,
  denominator,
  completeness,
  estimated,
  estimatedShare,
});

describe('combineKpi', () => {
  it('combines PUE as a ratio of energy sums, not a mean of ratios (ISO/IEC 30134-2)', () => {
    // day 1: 150 / 100 = 1.5; day 2: 260 / 200 = 1.3; the mean of ratios would be 1.4
    const pue = combineKpi([part(1.5, 150, 100), part(1.3, 260, 200)], {
      aggregation: 'ratio',
      over: 'time',
      expectedParts: 2,
    });
    expect(pue.numerator).toBe(410);
    expect(pue.denominator).toBe(300);
    expect(pue.value).toBeCloseTo(410 / 300, 12); // 1.3667
  });

  it('adds energy, leaves parts without a value out, and counts missing parts as incomplete', () => {
    // a 3-day window: day 1 has 10 kWh (complete), day 2 no data, day 3 not computed at all
    const energy = combineKpi([part(10, 10, 1, 1, true, 0.5), part(null, 0, 1, 0)], {
      aggregation: 'sum',
      over: 'time',
      expectedParts: 3,
    });
    expect(energy).toEqual({
      value: 10,
      numerator: 10,
      denominator: 1,
      completeness: 1 / 3,
      estimated: true,
      estimatedShare: 0.5, // day 1's: 5 of its 10 kWh spread over a gap
    });
  });

  it('keeps the floor area over time and adds the areas over sites (intensity)', () => {
    // one 1,000 m² building: 2,000 + 3,000 kWh over two days = 5 kWh/m²
    expect(
      combineKpi([part(2, 2000, 1000), part(3, 3000, 1000)], {
        aggregation: 'intensity',
        over: 'time',
        expectedParts: 2,
      }).value,
    ).toBe(5);
    // two sites: 5,000 kWh on 1,000 m² and 1,000 kWh on 500 m² = 6,000 / 1,500 = 4 kWh/m² (not the mean, 3.5)
    expect(
      combineKpi([part(5, 5000, 1000), part(2, 1000, 500)], {
        aggregation: 'intensity',
        over: 'entities',
        expectedParts: 2,
      }).value,
    ).toBe(4);
  });

  it('has no value without data, never a zero, and none when the denominator is zero', () => {
    expect(
      combineKpi([part(null, 0, 0, 0), part(null, 0, 0, 0)], {
        aggregation: 'sum',
        over: 'time',
        expectedParts: 2,
      }),
    ).toEqual({
      value: null,
      numerator: 0,
      denominator: 1,
      completeness: 0,
      estimated: false,
      estimatedShare: 0,
    });
    expect(
      combineKpi([part(0, 0, 0)], { aggregation: 'ratio', over: 'time', expectedParts: 1 }).value,
    ).toBeNull();
    expect(combineKpi([], { aggregation: 'ratio', over: 'entities', expectedParts: 0 }).completeness).toBe(0);
  });
});

describe('combineKpi of peaks', () => {
  it('keeps the largest over time', () => {
    const peak = (kw: number | null) => ({
      value: kw,
      numerator: kw ?? 0,
      denominator: 1,
      completeness: kw === null ? 0 : 1,
      estimated: false,
      estimatedShare: 0,
    });
    expect(
      combineKpi([peak(410), peak(455.5), peak(null)], {
        aggregation: 'max',
        over: 'time',
        expectedParts: 3,
      }),
    ).toEqual({
      value: 455.5,
      numerator: 455.5,
      denominator: 1,
      completeness: 2 / 3,
      estimated: false,
      estimatedShare: 0,
    });
  });
});

describe('combineKpi of estimated shares', () => {
  it('weighs a ratio by its denominator: three days of PUE, the IT energy of the second spread over a gap', () => {
    // by hand: IT 1,000 kWh a day, day 2 wholly spread (share 1): (0 × 1,000 + 1 × 1,000 + 0 × 1,000) / 3,000
    const pue = combineKpi(
      [part(1.3, 1300, 1000), part(1.3, 1300, 1000, 1, true, 1), part(1.3, 1300, 1000)],
      { aggregation: 'ratio', over: 'time', expectedParts: 3 },
    );
    expect(pue.value).toBeCloseTo(1.3, 12);
    expect(pue.estimated).toBe(true);
    expect(pue.estimatedShare).toBeCloseTo(1 / 3, 12);
  });

  it('weighs a sum by its energy, and keeps the largest share of a peak (it is one part)', () => {
    // by hand: 2,400 kWh of which 100 spread (1/24), then 1,200 measured: 100 / 3,600
    const energy = combineKpi([part(2400, 2400, 1, 1, true, 1 / 24), part(1200, 1200, 1)], {
      aggregation: 'sum',
      over: 'time',
      expectedParts: 2,
    });
    expect(energy.estimatedShare).toBeCloseTo(100 / 3600, 12);
    const peak = combineKpi([part(100, 100, 1, 1, true, 1 / 24), part(90, 90, 1)], {
      aggregation: 'max',
      over: 'time',
      expectedParts: 2,
    });
    expect(peak.estimatedShare).toBeCloseTo(1 / 24, 12);
  });
});

describe('KpiCombination in parts (replicas each combining a share of the sites)', () => {
  // three sites' PUE parts, one without a value: by hand, (300 + 130) / (200 + 100) = 1.4333…, completeness 2.5 / 3
  const sites: KpiParts[] = [
    { value: 1.5, numerator: 300, denominator: 200, completeness: 1, estimated: false, estimatedShare: 0 },
    { value: null, numerator: 0, denominator: 0, completeness: 0.5, estimated: false, estimatedShare: 0 },
    { value: 1.3, numerator: 130, denominator: 100, completeness: 1, estimated: true, estimatedShare: 0.25 },
  ];

  it.each([
    ['the first site alone, then the other two', [[0], [1, 2]]],
    ['the site without a value alone', [[1], [0, 2]]],
    ['one share empty', [[], [0, 1, 2]]],
  ])('merged from partials (%s) is the combination of all the parts', (_, shares) => {
    for (const aggregation of ['ratio', 'sum', 'max', 'intensity'] as const) {
      const whole = new KpiCombination(aggregation, 'entities');
      for (const p of sites) whole.add(p);
      const merged = new KpiCombination(aggregation, 'entities');
      for (const share of shares) {
        const partial = new KpiCombination(aggregation, 'entities');
        for (const i of share) partial.add(sites[i]!);
        // carried as JSON, as a replica's share is
        merged.merge(JSON.parse(JSON.stringify(partial.partial())) as ReturnType<typeof partial.partial>);
      }
      expect({ aggregation, ...merged.result(3) }).toEqual({ aggregation, ...whole.result(3) });
    }
    const pue = new KpiCombination('ratio', 'entities');
    for (const share of shares) {
      const partial = new KpiCombination('ratio', 'entities');
      for (const i of share) partial.add(sites[i]!);
      pue.merge(partial.partial());
    }
    expect(pue.result(3).value).toBeCloseTo(430 / 300, 12);
    expect(pue.result(3).completeness).toBeCloseTo(2.5 / 3, 12);
    // weighted by the denominators: 0.25 × 100 / 300
    expect(pue.result(3).estimatedShare).toBeCloseTo(25 / 300, 12);
  });
});
