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
  /**
   * The share of the energy behind the value spread into the window over a gap rather than measured in it, 0..1
   * (docs/contracts.md, "KPI series").
   */
  estimatedShare: number;
}

/**
 * Combines `parts` into one value.
 * - Only parts with a value count towards the value; a combination of parts without any value has none (never 0).
 * - `intensity` (energy per m²): over time the floor area stays what it is (the parts' denominator); over entities
 *   the areas add up.
 * - Completeness is the mean over `expectedParts` (a missing part counts as 0); estimated if any part is.
 * - The estimated share is the parts' mean weighted by the energy behind each: the numerator of a sum or an
 *   intensity, the denominator of a ratio; a peak's is the largest (it is one part's).
 */
export function combineKpi(
  parts: readonly KpiParts[],
  {
    aggregation,
    over,
    expectedParts,
  }: { aggregation: KpiAggregation; over: 'time' | 'entities'; expectedParts: number },
): KpiParts {
  const combination = new KpiCombination(aggregation, over);
  for (const p of parts) combination.add(p);
  return combination.result(expectedParts);
}

/**
 * `combineKpi` one part at a time, holding only running sums: for roll-ups over many parts (every site of a city,
 * window by window) that are never all held at once.
 */
export class KpiCombination {
  private parts = 0;
  private known = 0;
  private numerator = 0;
  private denominatorSum = 0;
  private denominatorMax = 0;
  private peak = 0;
  private completeness = 0;
  private estimated = false;
  private estimatedWeighted = 0;
  private weight = 0;
  private estimatedMax = 0;

  constructor(
    private readonly aggregation: KpiAggregation,
    private readonly over: 'time' | 'entities',
  ) {}

  add(p: KpiParts): void {
    this.parts++;
    this.completeness += p.completeness;
    if (p.value === null) return;
    this.peak = this.known === 0 ? p.numerator : Math.max(this.peak, p.numerator);
    this.known++;
    this.numerator += p.numerator;
    this.denominatorSum += p.denominator;
    this.denominatorMax = Math.max(this.denominatorMax, p.denominator);
    this.estimated ||= p.estimated;
    const weight = Math.abs(this.aggregation === 'ratio' ? p.denominator : p.numerator);
    this.estimatedWeighted += p.estimatedShare * weight;
    this.weight += weight;
    this.estimatedMax = Math.max(this.estimatedMax, p.estimatedShare);
  }

  /** The combination of the parts added so far, completeness over at least `expectedParts`. */
  result(expectedParts: number): KpiParts {
    const completeness = this.completeness / Math.max(expectedParts, this.parts, 1);
    if (this.aggregation === 'max')
      return {
        value: this.known > 0 ? this.peak : null,
        numerator: this.peak,
        denominator: 1,
        completeness,
        estimated: this.estimated,
        estimatedShare: this.estimatedMax,
      };
    const denominator =
      this.aggregation === 'sum'
        ? 1
        : this.aggregation === 'intensity' && this.over === 'time'
          ? this.denominatorMax
          : this.denominatorSum;
    let value: number | null = null;
    if (this.known > 0)
      value =
        this.aggregation === 'sum' ? this.numerator : denominator > 0 ? this.numerator / denominator : null;
    return {
      value,
      numerator: this.numerator,
      denominator,
      completeness,
      estimated: this.estimated,
      estimatedShare: this.weight > 0 ? this.estimatedWeighted / this.weight : 0,
    };
  }
}

/** The aggregation of each KPI the analytics service writes (docs/contracts.md, "KPI series"). */
export const KPI_AGGREGATION: Readonly<Record<string, KpiAggregation>> = {
  energy_kwh: 'sum',
  co2_t: 'sum',
  pue: 'ratio',
  renewable_share: 'ratio',
  /** The same by the generation method's coal equivalent of electricity (docs/domain.md, "Renewable share"). */
  renewable_share_generation: 'ratio',
  cop: 'ratio',
  /**
   * A heat pump's renewable (ambient) heat, kWh (its device id the category): summed within a season; a season (a year,
   * a rolling 12 months) is credited by its own SPF instead (docs/domain.md, "Heat pumps").
   */
  heat_pump_renewable_kwh: 'sum',
  eui_kwh_m2: 'intensity',
  /** Comprehensive energy (GB/T 2589), kgce, and per m² of floor area (docs/domain.md, "Comprehensive energy"). */
  energy_kgce: 'sum',
  energy_kgce_m2: 'intensity',
  /** Grid imports (kWh): what green power bought can cover (docs/domain.md, "Green power"). */
  grid_import_kwh: 'sum',
  /** Green power credited to a site's months (kWh), summed over a year or 12 months (docs/domain.md, "Green power"). */
  green_power_kwh: 'sum',
  /** CO2 at the factors of the site's baseline year, what `co2_reduction` compares (docs/domain.md, "CO2"). */
  co2_baseline_factors_t: 'sum',
  register_anomalies: 'sum',
  pv_yield_kwh_kwp: 'intensity',
  peak_demand_kw: 'max',
  /** Received over expected readings of one meter (its device id the category). */
  meter_completeness: 'ratio',
  /** A target share (numerator the share, denominator 1 per day): its mean over the days, constant within a year. */
  renewable_share_target: 'ratio',
};
