import { MEASUREMENTS, type KpiPeriod, type KpiScope } from '@peakwatch/contracts';
import { escapeTag, type InfluxClient } from '@peakwatch/influx';
import type { PolicyData } from '@peakwatch/policy';
import type { Registry } from '@peakwatch/registry';
import { kpiFactorsFor } from './factors';
import type { WriteApi } from '@influxdata/influxdb-client';
import { periodWindow, windowsOf, type FixedPeriod } from './periods';
import { AreaRollup } from './rollups';
import { periodEnergy, readQuarters, siteKpis, type KpiValue } from './site-kpis';

/**
 * The `kpi` series (docs/contracts.md, "KPI series"): tags kpi, scope, entity, period (and category); fields value, numerator,
 * denominator, completeness, estimated, estimated_share (and elapsed, for a projection; undeclared, for a renewable
 * share with nothing renewable metered or declared); stamped with the window start. A KPI without a value (no data) is written
 * without the `value` field, so that it is never read as zero. The same window written again is the same point.
 */
export function kpiLine(
  k: KpiValue,
  { scope, entity, period }: { scope: KpiScope; entity: string; period: KpiPeriod },
): string {
  // tags in key order: category, entity, kpi, period, scope
  const category = k.category === undefined ? '' : `,category=${escapeTag(k.category)}`;
  const value = k.value === null ? '' : `value=${k.value},`;
  const optional =
    (k.elapsed === undefined ? '' : `,elapsed=${k.elapsed}`) +
    (k.undeclared === undefined ? '' : `,undeclared=${k.undeclared}`);
  return (
    `${MEASUREMENTS.kpi}${category},entity=${escapeTag(entity)},kpi=${escapeTag(k.kpi)},period=${period},scope=${scope} ` +
    `${value}numerator=${k.numerator},denominator=${k.denominator},completeness=${k.completeness},` +
    `estimated=${k.estimated},estimated_share=${k.estimatedShare}${optional} ${k.windowStartMs}`
  );
}

/** Lines per write (docs/measurements.md: influxd takes 10,000-line batches best; its body limit is 25 MB). */
const WRITE_BATCH_LINES = 10_000;

/** Writes lines of the `kpi` series through the WriteApi, in batches of WRITE_BATCH_LINES. */
export async function writeKpiLines(influx: InfluxClient, lines: readonly string[]): Promise<void> {
  const writer = new KpiWriter(influx);
  await writer.add(lines);
  await writer.close();
}

/** Batches posted at once (docs/measurements.md: two in flight raise throughput about 1.5 times). */
const WRITES_IN_FLIGHT = 2;

/** Lines of the `kpi` series written as they come, WRITE_BATCH_LINES at a time, WRITES_IN_FLIGHT at once. */
class KpiWriter {
  written = 0;
  private batch: string[] = [];
  private readonly inFlight: Promise<void>[] = [];
  private failure: Error | undefined;
  private readonly writeApi: WriteApi;

  constructor(influx: InfluxClient) {
    this.writeApi = influx.createWriteApi({
      flushInterval: 0,
      maxRetries: 0,
      batchSize: WRITE_BATCH_LINES + 1,
    });
  }

  async add(lines: readonly string[]): Promise<void> {
    for (const l of lines) {
      this.batch.push(l);
      if (this.batch.length >= WRITE_BATCH_LINES) await this.flush();
    }
  }

  async close(): Promise<void> {
    await this.flush();
    await Promise.all(this.inFlight);
    await this.writeApi.close();
    if (this.failure !== undefined) throw this.failure;
  }

  private async flush(): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    if (this.batch.length === 0) return;
    this.writeApi.writeRecords(this.batch);
    this.written += this.batch.length;
    this.batch = [];
    this.inFlight.push(
      this.writeApi.flush().catch((error: unknown) => {
        this.failure ??= error instanceof Error ? error : new Error(String(error));
      }),
    );
    if (this.inFlight.length >= WRITES_IN_FLIGHT) await this.inFlight.shift();
  }
}

/** The range of windows to compute, per fixed period. */
export type FixedRanges = Partial<Record<FixedPeriod, { fromMs: number; toMs: number }>>;

/**
 * Computes the KPIs of every site (or of `siteIds`) for the windows of each period's range and writes them to
 * InfluxDB; for every site, also their district and city roll-ups, combined from the values just computed. The work
 * goes month by month (in the reporting zone), and site by site within a month: each site's readings are read once
 * for all periods, and a year of many sites is never held at once. Idempotent: a rerun overwrites the same points.
 * Returns the number of KPI values written.
 */
export async function writeKpiSeries({
  influx,
  registry,
  policy,
  ranges,
  utcOffsetMs,
  siteIds,
}: {
  influx: InfluxClient;
  registry: Registry;
  policy: PolicyData;
  ranges: FixedRanges;
  utcOffsetMs: number;
  siteIds?: readonly string[];
}): Promise<number> {
  // Whole windows only: a window is computed from all of its readings even when the range starts inside it.
  const periods = (Object.keys(ranges) as FixedPeriod[]).map((period) => ({
    period,
    fromMs: periodWindow(period, ranges[period]!.fromMs, utcOffsetMs).startMs,
    toMs: ranges[period]!.toMs,
  }));
  if (periods.length === 0) return 0;
  const sites = registry.sites.filter((s) => !siteIds || siteIds.includes(s.id));
  const writer = new KpiWriter(influx);
  const fromMs = Math.min(...periods.map((p) => p.fromMs));
  const toMs = Math.max(...periods.map((p) => p.toMs));
  for (const month of windowsOf('1mo', fromMs, toMs, utcOffsetMs)) {
    const lastDay = new Date(month.endMs - 1 + utcOffsetMs).toISOString().slice(0, 10);
    const factors = kpiFactorsFor(policy, Number(lastDay.slice(0, 4)), lastDay);
    const inMonth = periods
      .map((p) => ({ ...p, fromMs: Math.max(p.fromMs, month.startMs), toMs: Math.min(p.toMs, month.endMs) }))
      .filter((p) => p.fromMs < p.toMs);
    const readFrom = Math.min(...inMonth.map((p) => p.fromMs));
    const readTo = Math.max(...inMonth.map((p) => p.toMs));
    const areas = siteIds ? undefined : inMonth.map((p) => new AreaRollup(registry, p.period));
    // the next site's readings are read while this one's KPIs are computed and written
    const read = (i: number) => {
      const reading = readQuarters(influx, sites[i]!.devices, readFrom, readTo);
      reading.catch(() => undefined); // awaited below; not an unhandled rejection if this loop stops first
      return reading;
    };
    let next = sites.length > 0 ? read(0) : undefined;
    for (const [i, site] of sites.entries()) {
      const quarters = await next!;
      next = i + 1 < sites.length ? read(i + 1) : undefined;
      for (const [i, p] of inMonth.entries()) {
        const kpis = siteKpis({
          site,
          devices: quarters.map((q) => periodEnergy(q, p.period, p.fromMs, p.toMs, utcOffsetMs)),
          ...p,
          utcOffsetMs,
          factors,
        });
        await writer.add(kpis.map((k) => kpiLine(k, { scope: 'site', entity: site.id, period: p.period })));
        for (const k of kpis) areas?.[i]!.add(site.id, k);
      }
    }
    for (const area of areas ?? []) await writer.add(area.lines());
  }
  await writer.close();
  return writer.written;
}
