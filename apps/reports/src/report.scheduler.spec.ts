import { duePeriods } from './report.scheduler';

const options = { timeZone: 'Asia/Shanghai', settleMs: 6 * 3_600_000, annualBy: '03-31' };
/** A Beijing local time as epoch ms. */
const bj = (local: string): number => Date.parse(`${local}+08:00`);

describe('report schedule (reporting zone Asia/Shanghai)', () => {
  it.each<[string, string[]]>([
    ['2026-11-01T05:20:00', []], // the month has not settled yet (6 hours)
    ['2026-11-01T06:20:00', ['2026-10']], // settled: October's report
    ['2026-11-21T13:20:00', ['2026-10']], // and every hour after, restating it if late data changed it
    ['2027-01-01T01:20:00', ['2026']], // the year before, once a day from 1 January (December not settled yet) ...
    ['2027-03-31T01:20:00', ['2027-02', '2026']], // ... until the day it is due
    ['2027-04-01T07:20:00', ['2027-03']], // and no longer after it
    ['2027-01-02T02:20:00', ['2026-12']], // once a day: at 01:xx only
    ['2027-04-01T01:20:00', []], // the day after it is due, before March has settled: nothing
  ])('at %s generates %j', (local, expected) => {
    expect(duePeriods(bj(local), options)).toEqual(expected);
  });
});
