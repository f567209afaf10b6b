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
  /** Of a peak (`max`): the start of the quarter hour it was reached in (UTC ms), kept with the largest part. */
  atMs?: number;
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

/** The running sums of a KpiCombination (JSON-safe). */
export interface KpiCombinationSums {
  parts: number;
  known: number;
  numerator: number;
  denominatorSum: number;
  denominatorMax: number;
  peak: number;
  peakAtMs?: number;
  completeness: number;
  estimated: boolean;
  estimatedWeighted: number;
  weight: number;
  estimatedMax: number;
}

/**
 * `combineKpi` one part at a time, holding only running sums: for roll-ups over many parts (every site of a city,
 * window by window) that are never all held at once.
 */
export class KpiCombination {
  private sums: KpiCombinationSums = {
    parts: 0,
    known: 0,
    numerator: 0,
    denominatorSum: 0,
    denominatorMax: 0,
    peak: 0,
    completeness: 0,
    estimated: false,
    estimatedWeighted: 0,
    weight: 0,
    estimatedMax: 0,
  };

  constructor(
    private readonly aggregation: KpiAggregation,
    private readonly over: 'time' | 'entities',
  ) {}

  add(p: KpiParts): void {
    const s = this.sums;
    s.parts++;
    s.completeness += p.completeness;
    if (p.value === null) return;
    if (s.known === 0 || p.numerator > s.peak) {
      s.peak = p.numerator;
      s.peakAtMs = p.atMs;
    }
    s.known++;
    s.numerator += p.numerator;
    s.denominatorSum += p.denominator;
    s.denominatorMax = Math.max(s.denominatorMax, p.denominator);
    s.estimated ||= p.estimated;
    const weight = Math.abs(this.aggregation === 'ratio' ? p.denominator : p.numerator);
    s.estimatedWeighted += p.estimatedShare * weight;
    s.weight += weight;
    s.estimatedMax = Math.max(s.estimatedMax, p.estimatedShare);
  }

  /** The running sums so far: a partial combination, to be merged into another (another replica's share of the parts). */
  partial(): KpiCombinationSums {
    return { ...this.sums };
  }

  /** Takes in a partial combination of other parts (`partial()`), as if they had been added here one by one. */
  merge(other: KpiCombinationSums): void {
    const s = this.sums;
    s.parts += other.parts;
    s.completeness += other.completeness;
    if (other.known === 0) return;
    if (s.known === 0 || other.peak > s.peak) {
      s.peak = other.peak;
      s.peakAtMs = other.peakAtMs;
    }
    s.known += other.known;
    s.numerator += other.numerator;
    s.denominatorSum += other.denominatorSum;
    s.denominatorMax = Math.max(s.denominatorMax, other.denominatorMax);
    s.estimated ||= other.estimated;
    s.estimatedWeighted += other.estimatedWeighted;
    s.weight += other.weight;
    s.estimatedMax = Math.max(s.estimatedMax, other.estimatedMax);
  }

  /** The combination of the parts added so far, completeness over at least `expectedParts`. */
  result(expectedParts: number): KpiParts {
    const completeness = this.sums.completeness / Math.max(expectedParts, this.sums.parts, 1);
    if (this.aggregation === 'max')
      return {
        value: this.sums.known > 0 ? this.sums.peak : null,
        numerator: this.sums.peak,
        denominator: 1,
        completeness,
        estimated: this.sums.estimated,
        estimatedShare: this.sums.estimatedMax,
        ...(this.sums.known > 0 && this.sums.peakAtMs !== undefined ? { atMs: this.sums.peakAtMs } : {}),
      };
    const denominator =
      this.aggregation === 'sum'
        ? 1
        : this.aggregation === 'intensity' && this.over === 'time'
          ? this.sums.denominatorMax
          : this.sums.denominatorSum;
    let value: number | null = null;
    if (this.sums.known > 0)
      value =
        this.aggregation === 'sum'
          ? this.sums.numerator
          : denominator > 0
            ? this.sums.numerator / denominator
            : null;
    return {
      value,
      numerator: this.sums.numerator,
      denominator,
      completeness,
      estimated: this.sums.estimated,
      estimatedShare: this.sums.weight > 0 ? this.sums.estimatedWeighted / this.sums.weight : 0,
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
  /**
   * A site's average load over a quarter hour (kW; of 15-minute windows only), summed over a district's or the city's
   * sites quarter by quarter: what their coincident peak is the largest of.
   */
  demand_kw: 'sum',
  /** A district's or the city's coincident peak: the largest quarter of its sites' summed demand (docs/domain.md). */
  coincident_peak_kw: 'max',
  /** The cost of the electricity bought at the site's time-of-use tariff, CNY (and by band, the band the category). */
  cost_cny: 'sum',
  /** Cost over the kWh it was for. */
  avg_price_cny_kwh: 'ratio',
  /** kWh bought in the peak bands (尖峰, 高峰) over all kWh bought. */
  peak_band_share: 'ratio',
  /** The average load in the peak bands' quarter hours with data: their kWh over their hours. */
  peak_hours_load_kw: 'ratio',
  /** Received over expected readings of one meter (its device id the category). */
  meter_completeness: 'ratio',
  /** A target share (numerator the share, denominator 1 per day): its mean over the days, constant within a year. */
  renewable_share_target: 'ratio',
};
