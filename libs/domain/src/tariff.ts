/**
 * Time-of-use electricity prices (分时电价): which band each quarter hour falls in, and what it costs (docs/domain.md,
 * "Cost and peaks"). Beijing's division of the day and its price ratios: 京发改规〔2023〕11号 (seeds/tariffs).
 */

/** The bands of a time-of-use tariff, dearest first: 尖峰, 高峰, 平段, 低谷. */
export const TOU_BANDS = ['critical', 'peak', 'flat', 'valley'] as const;
export type TouBand = (typeof TOU_BANDS)[number];

/** Quarter hours in a day: the division of a day is given per quarter hour (a band boundary at any quarter). */
export const QUARTERS_PER_DAY = 96;

/**
 * A division of the day into bands, in force from `validFrom` (YYYY-MM-DD, local date) until the next one: the band of
 * each quarter hour of the local day (96 of them), and the quarters that are critical (尖峰) in some months, which
 * count as critical only for tariffs that have a critical price (and as their underlying band for the others).
 */
export interface TouDivision {
  validFrom: string;
  quarters: readonly Exclude<TouBand, 'critical'>[];
  critical: readonly { months: readonly number[]; quarters: readonly number[] }[];
}

/** A tariff's prices (CNY/kWh) per band, in force from `validFrom` (local date) until its next version. */
export interface TariffVersion {
  validFrom: string;
  prices: Readonly<Partial<Record<TouBand, number>>>;
}

/** The version of `versions` in force on `date` (YYYY-MM-DD): the latest from that date or before; none before the first. */
export function inForce<T extends { validFrom: string }>(
  versions: readonly T[],
  date: string,
): T | undefined {
  let found: T | undefined;
  for (const v of versions) if (v.validFrom <= date && (!found || v.validFrom > found.validFrom)) found = v;
  return found;
}

/**
 * The band and price of the quarter hour starting at `startMs` (UTC ms; `utcOffsetMs` the tariff's local offset): the
 * division and the prices in force on its local date, so that a price changed later never reprices a past quarter.
 * A critical quarter is critical only where the tariff prices the critical band. None before the first division or
 * the tariff's first version.
 */
export function quarterPrice({
  divisions,
  versions,
  startMs,
  utcOffsetMs,
}: {
  divisions: readonly TouDivision[];
  versions: readonly TariffVersion[];
  startMs: number;
  utcOffsetMs: number;
}): { band: TouBand; cnyPerKwh: number } | undefined {
  const local = new Date(startMs + utcOffsetMs);
  const date = local.toISOString().slice(0, 10);
  const division = inForce(divisions, date);
  const version = inForce(versions, date);
  if (!division || !version) return undefined;
  const quarter = local.getUTCHours() * 4 + Math.floor(local.getUTCMinutes() / 15);
  const month = local.getUTCMonth() + 1;
  let band: TouBand = division.quarters[quarter]!;
  if (
    version.prices.critical !== undefined &&
    division.critical.some((c) => c.months.includes(month) && c.quarters.includes(quarter))
  )
    band = 'critical';
  const cnyPerKwh = version.prices[band];
  return cnyPerKwh === undefined ? undefined : { band, cnyPerKwh };
}

/** Average load (kW) over `hours` of `energyKwh`; null without hours. */
export function averageLoadKw({ energyKwh, hours }: { energyKwh: number; hours: number }): number | null {
  return hours > 0 ? energyKwh / hours : null;
}

/**
 * Load factor (负荷率) = average load ÷ peak load over a period: energy ÷ (peak demand × hours), 0..1. None without a
 * peak (IEEE Std 100 "load factor"; the peak is the largest 15-minute demand, as a bill's maximum demand).
 */
export function loadFactor({
  energyKwh,
  peakKw,
  hours,
}: {
  energyKwh: number;
  peakKw: number;
  hours: number;
}): number | null {
  return peakKw > 0 && hours > 0 ? energyKwh / (peakKw * hours) : null;
}
