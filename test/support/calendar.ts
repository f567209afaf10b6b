// The calendar of the simulated periods. A test that depends on the calendar (weekday or weekend, heating season or
// not, a month or year boundary) names its period with these instead of taking "the days before now", and runs the
// product with a Clock set just after it (docs/testing.md, "Dates and clocks").

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
/** Beijing's offset from UTC (no daylight saving time since 1991). */
export const UTC8 = 8 * HOUR;

/** The instant a Beijing date (YYYY-MM-DD) begins. */
export function beijingMidnight(date: string): number {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new RangeError(`not a date: ${date}`);
  return Date.parse(`${date}T00:00:00+08:00`);
}

/** The Beijing weekday of an instant: 0 Sunday … 6 Saturday. */
export function beijingWeekday(ms: number): number {
  return new Date(ms + UTC8).getUTCDay();
}
