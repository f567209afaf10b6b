import { STANDING_REFRESH_MS, StandingWrites } from './alert-evaluator';

describe('StandingWrites', () => {
  const point = (value: number, atMs: number) =>
    `standing,district=haidian,rule=r,site=s state="firing",threshold=1.3,value=${value} ${atMs}`;

  it('writes a judgement when it changes, and an unchanged one once an hour, not every minute', () => {
    const writes = new StandingWrites();
    const t0 = 1_700_000_000_000;
    const due = (key: string, value: number, atMs: number) => writes.due(key, point(value, atMs), atMs);
    expect(due('s r', 1.4, t0)).toBe(true); // the first
    expect(due('s r', 1.4, t0 + 60_000)).toBe(false); // the same a minute later
    expect(due('other r', 1.4, t0 + 60_000)).toBe(true); // another site's
    expect(due('s r', 1.41, t0 + 120_000)).toBe(true); // changed
    expect(due('s r', 1.41, t0 + 120_000 + STANDING_REFRESH_MS - 1)).toBe(false);
    expect(due('s r', 1.41, t0 + 120_000 + STANDING_REFRESH_MS)).toBe(true); // an hour after the last written
  });
});
