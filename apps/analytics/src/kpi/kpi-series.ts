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

/** Lines per write (FIELD-NOTES: influxd takes 10,000-line batches best; its body limit is 25 MB). */
const WRITE_BATCH_LINES = 10_000;

/** Writes lines of the `kpi` series through the WriteApi, in batches of WRITE_BATCH_LINES. */
export async function writeKpiLines(influx: InfluxClient, lines: readonly string[]): Promise<void> {
  if (lines.length === 0) return;
  const writeApi = influx.createWriteApi({ flushInterval: 0, maxRetries: 0, batchSize: WRITE_BATCH_LINES });
  for (let i = 0; i < lines.length; i += WRITE_BATCH_LINES) {
    writeApi.writeRecords(lines.slice(i, i + WRITE_BATCH_LINES));
    await writeApi.flush();
  }
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
  let written = 0;
  // Site by site, so that a year of 15-minute windows for many sites is never held at once.
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
    await writeKpiLines(
      influx,
      kpis.map((k) => kpiLine(k, { scope: 'site', entity: site.id, period })),
    );
    written += kpis.length;
  }
  return written;
}
