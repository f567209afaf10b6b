import { utcOffsetMs } from '@peakwatch/metering';
import type { ReportKind } from './report-schema';

/** The period of `2026-10` (monthly) or `2026` (annual) in the reporting zone; throws naming a malformed period. */
export function reportPeriod(
  label: string,
  timeZone: string,
): { kind: ReportKind; fromMs: number; toMs: number; year: number } {
  const monthly = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(label);
  const annual = /^(\d{4})$/.exec(label);
  if (!monthly && !annual) throw new RangeError(`period ${JSON.stringify(label)}: expected YYYY-MM or YYYY`);
  const year = Number((monthly ?? annual)![1]);
  const month = monthly ? Number(monthly[2]) - 1 : 0;
  const local = (y: number, m: number): number => {
    const utc = Date.UTC(y, m, 1);
    return utc - utcOffsetMs(timeZone, utc);
  };
  return monthly
    ? { kind: 'monthly', fromMs: local(year, month), toMs: local(year, month + 1), year }
    : { kind: 'annual', fromMs: local(year, 0), toMs: local(year + 1, 0), year };
}
