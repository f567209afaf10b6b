// How far a value computed from the readings may stand from the simulator's ground truth, derived from the meters'
// resolution instead of a percentage, so that a lost reading or a lost quarter hour shows (docs/testing.md,
// "Tolerances").
//
// The simulator integrates each meter's true power and sends its register as the meter shows it: divided by the CT
// ratio and rounded to 0.001 (kWh, m3). A window's energy from one register is its last reading minus its first, two
// roundings of at most 0.0005 each: it differs from the truth by at most 0.001 × the CT ratio. A declared meter
// replacement inside the window adds the old meter's final and the new one's start reading: 0.001 × CT more.

/** The registers' resolution (kWh or m3). */
export const REGISTER_RESOLUTION = 0.001;
/** The ground truth states its values to 6 decimals. */
export const TRUTH_ROUNDING = 0.000_000_5;

/** Tolerance of one register's energy over a window (kWh or m3). */
export function registerTolerance({ ctRatio = 1, replacements = 0 } = {}): number {
  return REGISTER_RESOLUTION * ctRatio * (1 + replacements);
}

/**
 * Tolerance of a ratio a / b whose parts are known to ±ta and ±tb (bounds, not estimates): the largest change of the
 * ratio over those intervals, for |tb| < |b|.
 */
export function ratioTolerance(a: number, ta: number, b: number, tb: number): number {
  if (Math.abs(tb) >= Math.abs(b)) return Number.POSITIVE_INFINITY;
  return (ta + Math.abs(a / b) * tb) / (Math.abs(b) - tb);
}

/** Asserts |actual − expected| ≤ tolerance, plus the truth's own rounding and that of float arithmetic. */
export function expectWithin(actual: number | null | undefined, expected: number, tolerance: number): void {
  expect(actual).not.toBeNull();
  expect(actual).toBeDefined();
  const slack = TRUTH_ROUNDING + 1e-9 * Math.abs(expected);
  if (Math.abs(actual! - expected) > tolerance + slack)
    throw new Error(`${actual} differs from ${expected} by more than ${tolerance}`);
}

/** The sample campus (seeds/scenarios/haidian-campus.yaml): the registers each site's daily consumption reads. */
export const CAMPUS_CONSUMPTION: Readonly<Record<string, number>> = {
  'hd-b1': 3 * registerTolerance(), // b1-grid's import and export registers, b1-pv
  'hd-b2': registerTolerance({ ctRatio: 20 }), // b2-grid behind a 20:1 CT
  'hd-b3': registerTolerance(), // b3-grid (its wrap at 1,000,000 kWh is exact)
  'hd-dc1': registerTolerance(), // dc1-total
};

/** Tolerance of a data centre's PUE (facility over IT energy, one register each) from its true values. */
export function pueTolerance(facilityKwh: number, pue: number): number {
  return ratioTolerance(facilityKwh, registerTolerance(), facilityKwh / pue, registerTolerance());
}
