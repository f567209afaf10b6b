import { MEASUREMENTS } from '@peakwatch/contracts';
import { escapeTag, type InfluxClient } from '@peakwatch/influx';
import type { PolicyData } from '@peakwatch/policy';
import type { Registry } from '@peakwatch/registry';
import { kpiFactorsFor } from './factors';
import { computeSiteKpis, type KpiValue, type KpiWindow } from './site-kpis';

/**
 * The `kpi` series of DESIGN.md: tags kpi, scope, entity, period (and category); fields value, numerator,
 * denominator, completeness, estimated; stamped with the window start. A KPI without a value (no data) is written
 * without the `value` field, so that it is never read as zero. The same window written again is the same point.
 */
export function kpiLine(
  k: KpiValue,
  { scope, entity, period }: { scope: 'site' | 'district' | 'city'; entity: string; period: KpiWindow },
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

/**
 * Computes every site's KPIs for the windows of [fromMs, toMs) and writes them to InfluxDB through the WriteApi.
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
}: {
  influx: InfluxClient;
  registry: Registry;
  policy: PolicyData;
  fromMs: number;
  toMs: number;
  period: KpiWindow;
  utcOffsetMs: number;
}): Promise<number> {
  const factors = kpiFactorsFor(policy, new Date(fromMs + utcOffsetMs).getUTCFullYear());
  const lines: string[] = [];
  for (const site of registry.sites) {
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
  const writeApi = influx.createWriteApi({ flushInterval: 0, maxRetries: 0, batchSize: lines.length + 1 });
  writeApi.writeRecords(lines);
  await writeApi.close();
  return lines.length;
}
