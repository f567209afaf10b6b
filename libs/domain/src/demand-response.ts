/**
 * Measuring a site's response to a demand-response event (需求响应) against a baseline: what its load would have been
 * without the event (docs/domain.md, "Demand response").
 *
 * The baseline is a day-matching average, the commonest family of customer baselines (the "X of Y" methods reviewed by
 * Valentini et al., Energies 2022, 15(14), 5259): the mean load of each quarter hour of the event over the previous
 * DR_BASELINE_DAYS working days (Monday to Friday, days of the site's own earlier events left out), looked for within
 * DR_LOOKBACK_DAYS. It is then adjusted to the event day by the ratio of the day's actual load to that baseline over
 * the DR_ADJUSTMENT_QUARTERS quarter hours that end DR_ADJUSTMENT_GAP_QUARTERS before the event (a same-day, or
 * morning, adjustment: it corrects the baseline for a warmer or busier day without counting a response that began
 * early), bounded to 1 ± DR_ADJUSTMENT_CAP as programmes bound it so that one odd hour cannot move the baseline far.
 * Chinese programmes (GB/T 37016-2018) use rules of this family; PeakWatch's numbers are its own choice, not read in
 * that standard (docs/domain.md says so).
 */

/** Working days whose same quarters the baseline averages. */
export const DR_BASELINE_DAYS = 5;
/** How many days before the event the working days are looked for. */
export const DR_LOOKBACK_DAYS = 10;
/** Quarter hours of the same-day adjustment window. */
export const DR_ADJUSTMENT_QUARTERS = 8;
/** Quarter hours between the end of the adjustment window and the event's start. */
export const DR_ADJUSTMENT_GAP_QUARTERS = 4;
/** The adjustment factor stays within 1 ± this. */
export const DR_ADJUSTMENT_CAP = 0.2;

/** A load per quarter hour (kW), `null` where it was not measured. */
export type QuarterLoads = readonly (number | null)[];

/**
 * The unadjusted baseline of each quarter: the mean over `days` (each the same quarters of one baseline day) of the
 * quarters measured; `null` where no day has it.
 */
export function averageBaseline(days: readonly QuarterLoads[]): (number | null)[] {
  const length = Math.max(0, ...days.map((d) => d.length));
  return Array.from({ length }, (_, q) => {
    const known = days.map((d) => d[q]).filter((kw): kw is number => kw !== null && kw !== undefined);
    return known.length > 0 ? known.reduce((s, kw) => s + kw, 0) / known.length : null;
  });
}

/**
 * The same-day adjustment factor: Σ actual ÷ Σ baseline over the adjustment quarters where both are known, within
 * 1 ± `cap`; 1 when none is, or the baseline is 0 there.
 */
export function sameDayAdjustment(
  actual: QuarterLoads,
  baseline: QuarterLoads,
  cap = DR_ADJUSTMENT_CAP,
): number {
  let a = 0;
  let b = 0;
  actual.forEach((kw, q) => {
    const base = baseline[q];
    if (kw === null || base === null || base === undefined) return;
    a += kw;
    b += base;
  });
  if (b <= 0) return 1;
  return Math.min(1 + cap, Math.max(1 - cap, a / b));
}

/** A site's (or an event's total) response over the event's quarters. */
export interface DrResponse {
  /** Mean of baseline − actual over the quarters where both are known (kW; negative: the load rose). */
  reducedKw: number | null;
  /** Σ (baseline − actual) × ¼ h over those quarters: the energy moved out of the event (kWh). */
  shiftedKwh: number;
  /** Mean baseline and actual load over those quarters (kW). */
  baselineKw: number | null;
  actualKw: number | null;
  /** Quarters where both are known over the event's quarters, 0..1. */
  completeness: number;
}

/** The response over the event's quarters: `baseline` (adjusted) against the `actual` load, quarter by quarter. */
export function drResponse(baseline: QuarterLoads, actual: QuarterLoads): DrResponse {
  let n = 0;
  let base = 0;
  let act = 0;
  baseline.forEach((b, q) => {
    const a = actual[q];
    if (b === null || a === null || a === undefined) return;
    n++;
    base += b;
    act += a;
  });
  return {
    reducedKw: n > 0 ? (base - act) / n : null,
    shiftedKwh: (base - act) / 4,
    baselineKw: n > 0 ? base / n : null,
    actualKw: n > 0 ? act / n : null,
    completeness: baseline.length > 0 ? n / baseline.length : 0,
  };
}

/**
 * A site's share of an event's requested reduction (kW): the request shared in proportion to the sites' baselines
 * (a site with none, or an event whose sites have none, is given none).
 */
export function requestShareKw(
  requestedKw: number,
  siteBaselineKw: number | null,
  totalBaselineKw: number,
): number {
  return siteBaselineKw !== null && totalBaselineKw > 0
    ? (requestedKw * siteBaselineKw) / totalBaselineKw
    : 0;
}

/**
 * Peak-shaving capability (削峰能力; 京政发〔2022〕31号 sets 3–5 % of the maximum load by 2025): the reductions measured
 * in an area's events over the area's maximum load of the year, as a share. `null` without a maximum load.
 */
export function peakShavingShare(reducedKw: number, maxLoadKw: number | null): number | null {
  return maxLoadKw !== null && maxLoadKw > 0 ? reducedKw / maxLoadKw : null;
}
