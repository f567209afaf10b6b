import type { InfluxClient } from '@peakwatch/influx';

/**
 * Every `kpi` point with a value stamped from `fromMs` on, as comparable text: a window without data has no value
 * (docs/contracts.md, "KPI series"), whether the job wrote it without one or never wrote it; a field no point of the
 * answer has is left out (InfluxDB keeps the field keys of deleted points).
 */
export async function kpiSnapshot(influx: InfluxClient, fromMs = 0): Promise<string[]> {
  return (await influx.query(`SELECT * FROM kpi WHERE time >= ${fromMs}ms GROUP BY *`))
    .flatMap((s) =>
      s.rows
        .filter((r) => r['value'] !== null)
        .map((r) =>
          JSON.stringify({
            ...s.tags,
            ...Object.fromEntries(Object.entries(r).filter(([, v]) => v !== null)),
          }),
        ),
    )
    .sort();
}
