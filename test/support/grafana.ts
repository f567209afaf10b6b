import type { InfluxClient } from '@peakwatch/influx';

/**
 * A dashboard query as Grafana sends it: "All" of the multi-value variables, the time range and the interval
 * substituted.
 */
export function grafanaQuery(
  query: string,
  { fromMs, toMs, sites, districts }: { fromMs: number; toMs: number; sites: string[]; districts: string[] },
): string {
  return query
    .replaceAll('$timeFilter', `time >= ${fromMs}ms AND time <= ${toMs}ms`)
    .replaceAll('$__interval', '1d')
    .replaceAll('$site', `(${sites.join('|')})`)
    .replaceAll('$district', `(${districts.join('|')})`);
}

/** Runs a substituted dashboard query and checks it answers rows with the columns its aliases name, not all null. */
export async function expectPanelRows(influx: InfluxClient, query: string): Promise<void> {
  const series = await influx.query(query);
  expect(series.length).toBeGreaterThan(0);
  const aliases = [.../^SELECT (.+?) FROM /.exec(query)![1]!.matchAll(/ AS "(\w+)"/g)].map((m) => m[1]);
  for (const s of series) {
    expect(s.rows.length).toBeGreaterThan(0);
    expect(Object.keys(s.rows[0]!)).toEqual(['time', ...aliases]);
    expect(s.rows.some((row) => aliases.some((a) => row[a!] !== null))).toBe(true);
  }
}
