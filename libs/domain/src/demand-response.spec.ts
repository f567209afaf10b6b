import {
  averageBaseline,
  drResponse,
  peakShavingShare,
  requestShareKw,
  sameDayAdjustment,
} from './demand-response';

describe('demand-response baseline', () => {
  it('averages each quarter over the days that measured it', () => {
    // quarter 0: (100 + 110 + 120) / 3; quarter 1: one day silent, (200 + 220) / 2; quarter 2: nobody measured it
    expect(
      averageBaseline([
        [100, 200, null],
        [110, null, null],
        [120, 220, null],
      ]),
    ).toEqual([110, 210, null]);
  });

  it('adjusts to the event day by the ratio of the morning, bounded to ±20 %', () => {
    // the day runs 10 % above its baseline: (110 + 220) / (100 + 200)
    expect(sameDayAdjustment([110, 220], [100, 200])).toBeCloseTo(1.1, 12);
    // a quarter unknown on either side is left out of both sums: 110 / 100
    expect(sameDayAdjustment([110, null], [100, 200])).toBeCloseTo(1.1, 12);
    // a day at half its baseline is bounded to 0.8, one at double to 1.2
    expect(sameDayAdjustment([50], [100])).toBe(0.8);
    expect(sameDayAdjustment([200], [100])).toBe(1.2);
    // nothing to compare: no adjustment
    expect(sameDayAdjustment([null], [100])).toBe(1);
    expect(sameDayAdjustment([5], [0])).toBe(1);
  });

  it('measures the response over the quarters where both loads are known', () => {
    // baseline 400, 400, 400, 400 kW; actual 300, 320, unknown, 340: 3 of 4 quarters
    const r = drResponse([400, 400, 400, 400], [300, 320, null, 340]);
    expect(r.reducedKw).toBeCloseTo((100 + 80 + 60) / 3, 12);
    expect(r.shiftedKwh).toBeCloseTo((100 + 80 + 60) * 0.25, 12);
    expect(r.baselineKw).toBe(400);
    expect(r.actualKw).toBeCloseTo(320, 12);
    expect(r.completeness).toBe(0.75);
    // a load that rose is a negative reduction, not 0
    expect(drResponse([100], [130]).reducedKw).toBe(-30);
    // nothing measured: no reduction at all
    expect(drResponse([100, 100], [null, null])).toEqual({
      reducedKw: null,
      shiftedKwh: 0,
      baselineKw: null,
      actualKw: null,
      completeness: 0,
    });
  });

  it("shares the request by the sites' baselines, and gives the capability against the year's maximum", () => {
    expect(requestShareKw(300, 200, 600)).toBe(100);
    expect(requestShareKw(300, null, 600)).toBe(0);
    expect(requestShareKw(300, 200, 0)).toBe(0);
    // 150 kW of 4,000: 3.75 %, inside the plan's 3-5 %
    expect(peakShavingShare(150, 4000)).toBeCloseTo(0.0375, 12);
    expect(peakShavingShare(150, null)).toBeNull();
  });
});
