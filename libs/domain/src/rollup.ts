/**
 * Combining KPI values of shorter windows into a longer one (days into a month, months into a year or a rolling 12
 * months), and of several entities into one (sites into a district, districts into the city).
 *
 * Every ratio is recombined from its parts' numerators and denominators, never averaged: ISO/IEC 30134-2 defines
 * the PUE of a period as total facility energy over IT energy of that period, so a monthly or annual PUE is
 * Σ facility / Σ IT; the renewable share (tce) and heat-pump performance factors are combined the same way.
 */

/**
 * How a KPI combines: `sum` adds (energy, CO2), `ratio` divides sums, `intensity` is a sum over a fixed size, `max`
 * keeps the largest (a peak demand over time; never over entities, whose peaks need not coincide).
 */
export type KpiAggregation = 'sum' | 'ratio' | 'intensity' | 'max';

/** One KPI value with the parts it was computed from (the fields of the `kpi` series). */
export interface KpiParts {
  value: number | null;
  numerator: number;
  denominator: number;
  /** Received over expected readings, 0..1. */
  completeness: number;
  estimated: boolean;
}

/**
 * Combines `parts` into one value.
 * - Only parts with a value count towards the value; a combination of parts without any value has none (never 0).
 * - `intensity` (energy per m²): over time the floor area stays what it is (the parts' denominator); over entities
 *   the areas add up.
 * - Completeness is the mean over `expectedParts` (a missing part counts as 0); estimated if any part is.
 */
export function combineKpi(
  parts: readonly KpiParts[],
  {
    aggregation,
    over,
    expectedParts,
  }: { aggregation: KpiAggregation; over: 'time' | 'entities'; expectedParts: number },
): KpiParts {
  const known = parts.filter((p) => p.value !== null);
  const numerator = known.reduce((s, p) => s + p.numerator, 0);
  let denominator: number;
  if (aggregation === 'sum') denominator = 1;
  else if (aggregation === 'intensity' && over === 'time')
    denominator = known.reduce((m, p) => Math.max(m, p.denominator), 0);
  else denominator = known.reduce((s, p) => s + p.denominator, 0);
  if (aggregation === 'max') {
    const peak = known.length > 0 ? Math.max(...known.map((p) => p.numerator)) : 0;
    return {
      value: known.length > 0 ? peak : null,
      numerator: peak,
      denominator: 1,
      completeness: parts.reduce((s, p) => s + p.completeness, 0) / Math.max(expectedParts, parts.length, 1),
      estimated: known.some((p) => p.estimated),
    };
  }
  let value: number | null = null;
  if (known.length > 0)
    value = aggregation === 'sum' ? numerator : denominator > 0 ? numerator / denominator : null;
  const expected = Math.max(expectedParts, parts.length);
  return {
    value,
    numerator,
    denominator,
    completeness: expected > 0 ? parts.reduce((s, p) => s + p.completeness, 0) / expected : 0,
    estimated: known.some((p) => p.estimated),
  };
}

/** The aggregation of each KPI the analytics service writes (DESIGN.md "KPIs"). */
export const KPI_AGGREGATION: Readonly<Record<string, KpiAggregation>> = {
  energy_kwh: 'sum',
  co2_t: 'sum',
  pue: 'ratio',
  renewable_share: 'ratio',
  cop: 'ratio',
  eui_kwh_m2: 'intensity',
  register_anomalies: 'sum',
  pv_yield_kwh_kwp: 'intensity',
  peak_demand_kw: 'max',
  /** A target share (numerator the share, denominator 1 per day): its mean over the days, constant within a year. */
  renewable_share_target: 'ratio',
};
