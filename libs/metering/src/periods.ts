import type { KpiPeriod } from '@peakwatch/contracts';

/** A KPI window [startMs, endMs); a KPI point is stamped with the start (docs/contracts.md, "KPI series"). */
export interface KpiWindowRange {
  startMs: number;
  endMs: number;
}

/** Periods of fixed length, computed from the readings themselves. */
export const FIXED_PERIOD_MS = { '15m': 900_000, '1h': 3_600_000, '1d': 86_400_000 } as const;
export type FixedPeriod = keyof typeof FIXED_PERIOD_MS;
/** Periods combined from shorter ones: a month from its days, a year and a rolling 12 months from months. */
export type CalendarPeriod = Exclude<KpiPeriod, FixedPeriod>;

/**
 * Windows are laid out in the reporting time zone, taken as a fixed UTC offset (Asia/Shanghai has had no daylight
 * saving time since 1991): days begin at local midnight, months on the 1st, years on 1 January. A rolling 12 months
 * is stamped with its first month and ends 12 months later.
 */
/**
 * The periods whose windows a history import's marks recompute within INGEST_HORIZON_DAYS only (docs/imports.md,
 * "What is recomputed"): days, months and years are recomputed however old.
 */
export const IMPORT_FINE_PERIODS: ReadonlySet<KpiPeriod> = new Set(['15m', '1h']);

export function periodWindow(period: KpiPeriod, tsMs: number, utcOffsetMs: number): KpiWindowRange {
  if (period in FIXED_PERIOD_MS) {
    const size = FIXED_PERIOD_MS[period as FixedPeriod];
    const startMs = Math.floor((tsMs + utcOffsetMs) / size) * size - utcOffsetMs;
    return { startMs, endMs: startMs + size };
  }
  const local = new Date(tsMs + utcOffsetMs);
  const at = (year: number, month: number): number => Date.UTC(year, month, 1) - utcOffsetMs;
  const [y, m] = [local.getUTCFullYear(), local.getUTCMonth()];
  if (period === '1y') return { startMs: at(y, 0), endMs: at(y + 1, 0) };
  return { startMs: at(y, m), endMs: at(y, m + (period === 'rolling_12mo' ? 12 : 1)) };
}

/**
 * The windows of `period` that hold some of [fromMs, toMs), oldest first. For a rolling 12 months, the windows whose
 * last month is among those of the range: the ones that end with a month the range touches.
 */
export function windowsOf(
  period: KpiPeriod,
  fromMs: number,
  toMs: number,
  utcOffsetMs: number,
): KpiWindowRange[] {
  const out: KpiWindowRange[] = [];
  const step: KpiPeriod = period === 'rolling_12mo' ? '1mo' : period;
  for (
    let w = periodWindow(step, fromMs, utcOffsetMs);
    w.startMs < toMs;
    w = periodWindow(step, w.endMs, utcOffsetMs)
  ) {
    out.push(
      period === 'rolling_12mo' ? { startMs: monthsBefore(w.startMs, 11, utcOffsetMs), endMs: w.endMs } : w,
    );
  }
  return out;
}

/** The start of the month `n` months before the month starting at `monthStartMs`. */
function monthsBefore(monthStartMs: number, n: number, utcOffsetMs: number): number {
  const local = new Date(monthStartMs + utcOffsetMs);
  return Date.UTC(local.getUTCFullYear(), local.getUTCMonth() - n, 1) - utcOffsetMs;
}
