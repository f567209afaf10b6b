import { periodWindow, windowsOf } from './periods';

const UTC8 = 8 * 3_600_000;
/** A Beijing local time as epoch ms. */
const bj = (local: string): number => Date.parse(`${local}+08:00`);

describe('KPI periods in the reporting zone (UTC+8)', () => {
  it('lays months, years and rolling 12 months on local calendar boundaries', () => {
    const t = bj('2026-02-15T09:30:00');
    expect(periodWindow('1d', t, UTC8)).toEqual({
      startMs: bj('2026-02-15T00:00:00'),
      endMs: bj('2026-02-16T00:00:00'),
    });
    // February 2026 has 28 days
    expect(periodWindow('1mo', t, UTC8)).toEqual({
      startMs: bj('2026-02-01T00:00:00'),
      endMs: bj('2026-03-01T00:00:00'),
    });
    expect(periodWindow('1y', t, UTC8)).toEqual({
      startMs: bj('2026-01-01T00:00:00'),
      endMs: bj('2027-01-01T00:00:00'),
    });
    // a local midnight on the 1st is still the previous day in UTC: 2026-01-31T16:00Z belongs to February
    expect(periodWindow('1mo', Date.parse('2026-01-31T16:00:00Z'), UTC8).startMs).toBe(
      bj('2026-02-01T00:00:00'),
    );
  });

  it('lists the windows that hold part of a range, oldest first', () => {
    expect(windowsOf('1d', bj('2026-03-01T10:00:00'), bj('2026-03-03T00:00:00'), UTC8)).toEqual([
      { startMs: bj('2026-03-01T00:00:00'), endMs: bj('2026-03-02T00:00:00') },
      { startMs: bj('2026-03-02T00:00:00'), endMs: bj('2026-03-03T00:00:00') },
    ]);
    expect(
      windowsOf('1mo', bj('2025-12-31T23:00:00'), bj('2026-01-01T01:00:00'), UTC8).map((w) => w.startMs),
    ).toEqual([bj('2025-12-01T00:00:00'), bj('2026-01-01T00:00:00')]);
  });

  it('gives a rolling 12 months for each month of the range, ending with that month', () => {
    expect(windowsOf('rolling_12mo', bj('2026-01-15T00:00:00'), bj('2026-02-02T00:00:00'), UTC8)).toEqual([
      { startMs: bj('2025-02-01T00:00:00'), endMs: bj('2026-02-01T00:00:00') },
      { startMs: bj('2025-03-01T00:00:00'), endMs: bj('2026-03-01T00:00:00') },
    ]);
  });
});
