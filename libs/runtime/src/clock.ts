/**
 * The product's "now" for every decision that depends on the calendar: ingest's horizon and late-data marks, the
 * KPI job's recent windows, alert evaluation and escalation, the report schedule, and the outbox's due times.
 * A process runs the system clock. A test that simulates a chosen period (a weekday in the heating season, the days
 * around 1 January) builds its apps with `Clock.startingAt(ms)`: time then passes at the real rate from that
 * instant, and the global `Date` stays untouched (docs/testing.md, "Dates and clocks").
 */
export class Clock {
  private constructor(private readonly offsetMs: number) {}

  /** The system clock. */
  static system(): Clock {
    return new Clock(0);
  }

  /** A clock that reads `startMs` now and runs at the real rate from there. */
  static startingAt(startMs: number): Clock {
    return new Clock(startMs - Date.now());
  }

  /** Milliseconds since the epoch. */
  now(): number {
    return Date.now() + this.offsetMs;
  }

  /** `now()` as an ISO 8601 string, for stored timestamps. */
  iso(): string {
    return new Date(this.now()).toISOString();
  }
}
