/** The UTC offset (ms) of a time zone at an instant, e.g. +8 h for Asia/Shanghai. */
export function utcOffsetMs(timeZone: string, atMs: number): number {
  const name = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' })
    .formatToParts(atMs)
    .find((p) => p.type === 'timeZoneName')?.value;
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name ?? '');
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60_000 : 0;
}

/**
 * One meaning for a date everywhere (the API, the command line, reports): a `YYYY-MM-DD` date is midnight in the
 * reporting zone `timeZone`; an RFC 3339 time with its offset (`Z` or ±hh:mm) is taken as given. Undefined for
 * anything else: a time without an offset, a day that does not exist.
 */
export function instantMs(raw: string, timeZone: string): number | undefined {
  if (/^\d{4}-\d{2}-\d{2}$/.test(raw)) {
    const utcMidnight = Date.parse(`${raw}T00:00:00Z`);
    if (Number.isNaN(utcMidnight) || new Date(utcMidnight).toISOString().slice(0, 10) !== raw)
      return undefined;
    return utcMidnight - utcOffsetMs(timeZone, utcMidnight);
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(raw)) return undefined;
  const ms = Date.parse(raw);
  return Number.isNaN(ms) ? undefined : ms;
}
