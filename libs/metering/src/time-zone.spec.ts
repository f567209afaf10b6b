import { instantMs } from './time-zone';

describe('instantMs: one meaning for a date', () => {
  it('takes a plain date as midnight in the reporting zone', () => {
    // Beijing is UTC+8 all year: 31 October 2026, 00:00 there is 30 October, 16:00 UTC
    expect(instantMs('2026-10-31', 'Asia/Shanghai')).toBe(Date.UTC(2026, 9, 30, 16));
    expect(instantMs('2026-10-31', 'UTC')).toBe(Date.UTC(2026, 9, 31));
  });

  it('takes a time with its offset as given, whatever the zone', () => {
    expect(instantMs('2026-10-31T08:00:00+08:00', 'UTC')).toBe(Date.UTC(2026, 9, 31));
    expect(instantMs('2026-10-31T00:00Z', 'Asia/Shanghai')).toBe(Date.UTC(2026, 9, 31));
    expect(instantMs('2026-10-31T00:00:00.250Z', 'Asia/Shanghai')).toBe(Date.UTC(2026, 9, 31, 0, 0, 0, 250));
  });

  it.each([
    '2026-02-30',
    '2026-13-01',
    '2026-10-31T08:00:00',
    '31/10/2026',
    'yesterday',
    '2026-10-31 08:00Z',
    '',
  ])('refuses %j', (raw) => expect(instantMs(raw, 'Asia/Shanghai')).toBeUndefined());
});
