import type { KpiPeriod, KpiScope } from '@peakwatch/contracts';
import { combineKpi } from '@peakwatch/domain';
import type { InfluxClient } from '@peakwatch/influx';
import { kpiLine, readKpis, windowsOf, writeKpiLines, type KpiWindowRange } from '@peakwatch/metering';
import { groupBy, partsOf } from './rollups';

/**
 * The periods a coincident peak is written for, in the order they are combined (each from the one before). Not for
 * hours: an hour's is one of its four summed quarters, which the area's `demand_kw` already shows.
 */
const COINCIDENT_PERIODS = ['1d', '1mo', '1y'] as const;
type CoincidentPeriod = (typeof COINCIDENT_PERIODS)[number];

/** What each period's coincident peak is the largest of: the area's summed quarters, then its days, then months. */
const SOURCE: Record<CoincidentPeriod, { period: KpiPeriod; kpi: string }> = {
  '1d': { period: '15m', kpi: 'demand_kw' },
  '1mo': { period: '1d', kpi: 'coincident_peak_kw' },
  '1y': { period: '1mo', kpi: 'coincident_peak_kw' },
};

/** Windows whose sources one query reads: about a month of quarter hours (or of days, or a few years of months). */
const WINDOWS_PER_READ: Record<CoincidentPeriod, number> = { '1d': 31, '1mo': 36, '1y': 3 };

/**
 * Writes the coincident peak (`coincident_peak_kw`, docs/domain.md "Cost and peaks") of every district and of the
 * city for `windows` of each period: a day's is the largest quarter hour of the sites' summed demand (`demand_kw` of
 * the area, stored by the roll-up of 15-minute windows), with the start of that quarter; a month's is the largest of
 * its days', a year's of its months'. Not the sum of the sites' own peaks, which need not fall in the same quarter.
 * Completeness is the mean over the window's quarters (days, months), a missing one counting 0. Call it after the
 * areas' shorter windows are written. Returns the number of values written.
 */
export async function writeCoincidentPeaks(
  influx: InfluxClient,
  windows: Partial<Record<CoincidentPeriod, readonly KpiWindowRange[]>>,
  utcOffsetMs: number,
): Promise<number> {
  let written = 0;
  for (const period of COINCIDENT_PERIODS) {
    const unique = [...new Map((windows[period] ?? []).map((w) => [w.startMs, w])).values()].sort(
      (a, b) => a.startMs - b.startMs,
    );
    const source = SOURCE[period];
    for (let i = 0; i < unique.length; i += WINDOWS_PER_READ[period]) {
      const chunk = unique.slice(i, i + WINDOWS_PER_READ[period]);
      const lines: string[] = [];
      for (const scope of ['district', 'city'] as const satisfies readonly KpiScope[]) {
        const stored = await readKpis(influx, {
          scope,
          period: source.period,
          kpi: source.kpi,
          fromMs: chunk[0]!.startMs,
          toMs: chunk.at(-1)!.endMs,
        });
        for (const [entity, series] of groupBy(stored, (k) => k.entity))
          for (const w of chunk) {
            const parts = series.filter((k) => k.windowStartMs >= w.startMs && k.windowStartMs < w.endMs);
            if (parts.length === 0) continue;
            // a quarter's sum was reached at the quarter's start; a day's peak keeps the time it was reached at
            const result = combineKpi(
              parts.map((k) => ({ ...partsOf(k), atMs: k.atMs ?? k.windowStartMs })),
              {
                aggregation: 'max',
                over: 'time',
                expectedParts: windowsOf(source.period, w.startMs, w.endMs, utcOffsetMs).length,
              },
            );
            lines.push(
              kpiLine(
                { kpi: 'coincident_peak_kw', windowStartMs: w.startMs, ...result },
                { scope, entity, period },
              ),
            );
          }
      }
      await writeKpiLines(influx, lines);
      written += lines.length;
    }
  }
  return written;
}

/** The windows of each coincident period that hold some of the given days: the days, and their months and years. */
export function coincidentWindows(
  days: readonly KpiWindowRange[],
  utcOffsetMs: number,
): Record<CoincidentPeriod, KpiWindowRange[]> {
  const around = (period: KpiPeriod): KpiWindowRange[] =>
    days.flatMap((d) => windowsOf(period, d.startMs, d.endMs, utcOffsetMs));
  return { '1d': [...days], '1mo': around('1mo'), '1y': around('1y') };
}
