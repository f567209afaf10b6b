import { MEASUREMENTS, type KpiPeriod, type KpiScope } from '@peakwatch/contracts';
import { escapeTag, type InfluxClient } from '@peakwatch/influx';
import type { PolicyData } from '@peakwatch/policy';
import type { Registry } from '@peakwatch/registry';
import { kpiFactorsFor } from './factors';
import type { FixedPeriod } from './periods';
import { computeSiteKpis, type KpiValue } from './site-kpis';

/**
 * The `kpi` series of DESIGN.md: tags kpi, scope, entity, period (and category); fields value, numerator,
 * denominator, completeness, estimated; stamped with the window start. A KPI without a value (no data) is written
 * without the `value` field, so that it is never read as zero. The same window written again is the same point.
 */
export function kpiLine(
  k: KpiValue,
  { scope, entity, period }: { scope: KpiScope; entity: string; period: KpiPeriod },
): string {
  const tags = [
    ['category', k.category],
    ['entity', entity],
    ['kpi', k.kpi],
    ['period', period],
    ['scope', scope],
  ]
    .filter((t): t is [string, string] => t[1] !== undefined)
    .map(([key, v]) => `,${key}=${escapeTag(v)}`)
    .join('');
  const fields = [
    ...(k.value === null ? [] : [`value=${k.value}`]),
    `numerator=${k.numerator}`,
    `denominator=${k.denominator}`,
    `completeness=${k.completeness}`,
    `estimated=${k.estimated}`,
  ].join(',');
  return `${MEASUREMENTS.kpi}${tags} ${fields} ${k.windowStartMs}`;
}

/** Writes lines of the `kpi` series through the WriteApi. */
export async function writeKpiLines(influx: InfluxClient, lines: readonly string[]): Promise<void> {
  if (lines.length === 0) return;
  const writeApi = influx.createWriteApi({ flushInterval: 0, maxRetries: 0, batchSize: lines.length + 1 });
  writeApi.writeRecords(lines as string[]);
  await writeApi.close();
}

/**
 * Computes the KPIs of every site (or of `siteIds`) for the windows of [fromMs, toMs) and writes them to InfluxDB.
 * Idempotent: a rerun overwrites the same points. Returns the number of KPI values written.
 */
export async function writeKpiSeries({
  influx,
  registry,
  policy,
  fromMs,
  toMs,
  period,
  utcOffsetMs,
  siteIds,
}: {
  influx: InfluxClient;
  registry: Registry;
  policy: PolicyData;
  fromMs: number;
  toMs: number;
  period: FixedPeriod;
  utcOffsetMs: number;
  siteIds?: readonly string[];
}): Promise<number> {
  const factors = kpiFactorsFor(policy, new Date(fromMs + utcOffsetMs).getUTCFullYear());
  const lines: string[] = [];
  for (const site of registry.sites.filter((s) => !siteIds || siteIds.includes(s.id))) {
    const kpis = await computeSiteKpis({
      influx,
      registry,
      siteId: site.id,
      fromMs,
      toMs,
      period,
      utcOffsetMs,
      factors,
    });
    lines.push(...kpis.map((k) => kpiLine(k, { scope: 'site', entity: site.id, period })));
  }
  await writeKpiLines(influx, lines);
  return lines.length;
}
