import { carbonPosition, type MonthEmissions } from './carbon-market';

const months = (tCo2: Record<number, number>): MonthEmissions[] =>
  Object.entries(tCo2).map(([month, t]) => ({ month: Number(month), tCo2: t }));
/** A previous year: January 100 t, February 90, March to November 50 each (450), December 110; 750 t in all. */
const previous = months({
  1: 100,
  2: 90,
  3: 50,
  4: 50,
  5: 50,
  6: 50,
  7: 50,
  8: 50,
  9: 50,
  10: 50,
  11: 50,
  12: 110,
});

describe('carbonPosition', () => {
  it('projects linearly by days without a complete previous year: 1 t a day is 365 t in 2026', () => {
    const position = carbonPosition({
      year: 2026,
      allowanceT: 400,
      priceCnyPerT: 80,
      months: months({ 2: 28, 1: 31 }),
      previousYear: previous.slice(0, 11),
    });
    expect(position).toEqual({
      monthsFiled: [1, 2],
      toDateT: 59,
      projectedT: 365,
      method: 'linear_by_days',
      surplusT: 35,
      surplusCny: 2800,
    });
  });

  it("scales the previous year's months to come by this year's ratio to it so far", () => {
    // 110 + 99 = 209 t against 100 + 90 = 190 t: 1.1; the ten months to come, 450 + 110 = 560 t, × 1.1 = 616 t
    const position = carbonPosition({
      year: 2026,
      allowanceT: 800,
      priceCnyPerT: 100,
      months: months({ 1: 110, 2: 99 }),
      previousYear: previous,
    });
    expect(position.method).toBe('previous_year_profile');
    expect(position.toDateT).toBe(209);
    expect(position.projectedT).toBeCloseTo(825, 9);
    expect(position.surplusT).toBeCloseTo(-25, 9);
    expect(position.surplusCny).toBeCloseTo(-2500, 6);
  });

  it('takes the previous year whole before any month is filed, and projects nothing without either', () => {
    expect(carbonPosition({ year: 2026, allowanceT: 700, months: [], previousYear: previous })).toMatchObject(
      {
        projectedT: 750,
        surplusT: -50,
        surplusCny: null,
      },
    );
    expect(carbonPosition({ year: 2026, allowanceT: 700, months: [] })).toEqual({
      monthsFiled: [],
      toDateT: 0,
      projectedT: null,
      method: null,
      surplusT: null,
      surplusCny: null,
    });
  });

  it('counts the days of a leap February', () => {
    // 2028: 366 days; January and February filed, 31 + 29 = 60 days, 60 t
    expect(carbonPosition({ year: 2028, allowanceT: 0, months: months({ 1: 31, 2: 29 }) }).projectedT).toBe(
      366,
    );
  });
});
