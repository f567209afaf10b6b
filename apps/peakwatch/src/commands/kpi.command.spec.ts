import { utcOffsetMs } from '@peakwatch/metering';
import { parseDate } from './kpi.command';

describe('reporting dates', () => {
  it('knows Beijing is UTC+8 (no daylight saving time)', () => {
    expect(utcOffsetMs('Asia/Shanghai', Date.UTC(2026, 0, 1))).toBe(8 * 3_600_000);
    expect(utcOffsetMs('Asia/Shanghai', Date.UTC(2026, 6, 1))).toBe(8 * 3_600_000);
    expect(utcOffsetMs('UTC', Date.UTC(2026, 6, 1))).toBe(0);
  });

  it('reads a date as midnight in the reporting zone: 2026-11-01 in Beijing is 2026-10-31T16:00Z', () => {
    expect(parseDate('--from', '2026-11-01', 'Asia/Shanghai')).toBe(Date.UTC(2026, 9, 31, 16));
    expect(parseDate('--from', '2026-11-01T12:00:00+08:00', 'UTC')).toBe(Date.UTC(2026, 10, 1, 4));
  });
});
