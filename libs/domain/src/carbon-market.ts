/**
 * An emitter's position in a carbon market (碳市场履约; docs/domain.md, "Carbon-market position"): its emissions of the
 * compliance year so far against the allowance (配额) it was allocated, projected to the year's end.
 *
 * Emissions to date are the totals of the months whose monthly report is filed. The projection is PeakWatch's own
 * choice (no plan prescribes one):
 * - `previous_year_profile`, when the organisation's previous year has a filed total for each of its twelve months: the
 *   months to come are the previous year's same months scaled by this year's ratio to it over the months filed, so
 *   that the heating season still to come is counted as a heating season;
 * - `linear_by_days`, otherwise: the emissions to date times the year's days over the days of the months filed.
 * With no month filed, and no complete previous year, there is no projection.
 */

export type ProjectionMethod = 'previous_year_profile' | 'linear_by_days';

/** A month's emissions (t CO2), `month` 1–12. */
export interface MonthEmissions {
  month: number;
  tCo2: number;
}

export interface CarbonPosition {
  /** The months whose totals are counted (1–12, ascending). */
  monthsFiled: number[];
  toDateT: number;
  projectedT: number | null;
  method: ProjectionMethod | null;
  /** Allowance minus projection: positive a surplus, negative a shortfall (null without a projection). */
  surplusT: number | null;
  /** The surplus at the declared carbon price (CNY), when one is declared. */
  surplusCny: number | null;
}

const daysIn = (year: number, month: number): number => new Date(Date.UTC(year, month, 0)).getUTCDate();

export function carbonPosition({
  year,
  allowanceT,
  priceCnyPerT,
  months,
  previousYear = [],
}: {
  year: number;
  allowanceT: number;
  priceCnyPerT?: number | undefined;
  /** The compliance year's filed months. */
  months: readonly MonthEmissions[];
  /** The previous year's filed months (its profile, when all twelve are). */
  previousYear?: readonly MonthEmissions[];
}): CarbonPosition {
  const filed = [...months].sort((a, b) => a.month - b.month);
  const monthsFiled = filed.map((m) => m.month);
  const toDateT = filed.reduce((s, m) => s + m.tCo2, 0);
  const before = new Map(previousYear.map((m) => [m.month, m.tCo2]));
  const profileOver = (list: readonly number[]): number => list.reduce((s, m) => s + before.get(m)!, 0);
  const open = Array.from({ length: 12 }, (_, i) => i + 1).filter((m) => !monthsFiled.includes(m));
  let projectedT: number | null = null;
  let method: ProjectionMethod | null = null;
  if (before.size === 12 && profileOver(monthsFiled) > 0) {
    method = 'previous_year_profile';
    projectedT = toDateT + profileOver(open) * (toDateT / profileOver(monthsFiled));
  } else if (before.size === 12 && monthsFiled.length === 0) {
    method = 'previous_year_profile';
    projectedT = profileOver(open);
  } else if (monthsFiled.length > 0) {
    method = 'linear_by_days';
    const yearDays = Array.from({ length: 12 }, (_, i) => daysIn(year, i + 1)).reduce((a, b) => a + b, 0);
    const filedDays = monthsFiled.reduce((s, m) => s + daysIn(year, m), 0);
    projectedT = (toDateT * yearDays) / filedDays;
  }
  const surplusT = projectedT === null ? null : allowanceT - projectedT;
  return {
    monthsFiled,
    toDateT,
    projectedT,
    method,
    surplusT,
    surplusCny: surplusT !== null && priceCnyPerT !== undefined ? surplusT * priceCnyPerT : null,
  };
}
