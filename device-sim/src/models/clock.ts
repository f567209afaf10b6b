/** Local calendar facts of an instant at a fixed UTC offset (China has no daylight saving time). */
export interface LocalTime {
  /** Day of year, 1..366. */
  dayOfYear: number;
  /** Hours since local midnight, fractional. */
  hour: number;
  /** 0 = Sunday .. 6 = Saturday. */
  weekday: number;
  /** Month 1..12 and day of month 1..31. */
  month: number;
  day: number;
  /** Days since 1970-01-01 in local time (a stable key for per-day randomness). */
  dayIndex: number;
}

const MS_PER_DAY = 86_400_000;

export function localTime(tsMs: number, utcOffsetHours: number): LocalTime {
  const local = tsMs + utcOffsetHours * 3_600_000;
  const date = new Date(local);
  const yearStart = Date.UTC(date.getUTCFullYear(), 0, 1);
  return {
    dayOfYear: Math.floor((local - yearStart) / MS_PER_DAY) + 1,
    hour: (local % MS_PER_DAY) / 3_600_000,
    weekday: date.getUTCDay(),
    month: date.getUTCMonth() + 1,
    day: date.getUTCDate(),
    dayIndex: Math.floor(local / MS_PER_DAY),
  };
}

/** Start (epoch ms) of the local day containing `tsMs`. */
export function localDayStart(tsMs: number, utcOffsetHours: number): number {
  const offset = utcOffsetHours * 3_600_000;
  return Math.floor((tsMs + offset) / MS_PER_DAY) * MS_PER_DAY - offset;
}
