import { MEASUREMENTS, type KpiPeriod, type KpiScope } from '@peakwatch/contracts';
import type { KpiParts } from '@peakwatch/domain';
import { escapeTag, quoteString, stringField, type InfluxClient, type InfluxSeries } from '@peakwatch/influx';
import type { WriteApi } from '@influxdata/influxdb-client';

/** One KPI value of one window, as the `kpi` series holds it (docs/contracts.md, "KPI series"). */
export interface KpiValue extends KpiParts {
  kpi: string;
  /** Sub-metering category or device, for `energy_kwh` and `cop`. */
  category?: string;
  windowStartMs: number;
  /** A projection to the window's end: the share of the window elapsed it was projected from (linearly). */
  elapsed?: number;
  /**
   * Of a site's renewable share of a month or longer: nothing renewable was metered and no green power declared. The
   * value holds the metered 0 for roll-ups; a reader shows no share (docs/domain.md, "Green power").
   */
  undeclared?: boolean;
  /** The import batches among the readings behind the value (docs/imports.md), sorted; none: live readings only. */
  batches?: string[];
  /**
   * Of a cost KPI: the site declares no tariff, or none is in force for some of the window's energy. The value is none,
   * never 0 (docs/domain.md, "Cost and peaks").
   */
  noTariff?: boolean;
}

/**
 * The `kpi` series (docs/contracts.md, "KPI series"): tags kpi, scope, entity, period (and category); fields value, numerator,
 * denominator, completeness, estimated, estimated_share (and elapsed, for a projection; undeclared, for a renewable
 * share with nothing renewable metered or declared; no_tariff, for a cost without a tariff; at_ms, the start of a
 * peak's quarter); stamped with the window start. A KPI without a value (no data) is written
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
    (k.undeclared === undefined ? '' : `,undeclared=${k.undeclared}`) +
    (k.noTariff === undefined ? '' : `,no_tariff=${k.noTariff}`) +
    (k.atMs === undefined ? '' : `,at_ms=${k.atMs}`) +
    (k.batches?.length ? `,batches=${stringField(k.batches.join(','))}` : '');
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
export class KpiWriter {
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

export interface StoredKpi extends KpiValue {
  entity: string;
}

/** The fields of a `kpi` point, as every reader selects them. */
const KPI_FIELDS =
  'value, numerator, denominator, completeness, estimated, estimated_share, elapsed, undeclared, batches, no_tariff, at_ms';

/**
 * Reads the `kpi` points of one scope and period stamped in [fromMs, toMs), for some entities or all, of one KPI or
 * all.
 */
export async function readKpis(
  influx: InfluxClient,
  {
    scope,
    period,
    fromMs,
    toMs,
    entities,
    kpi,
  }: {
    scope: KpiScope;
    period: KpiPeriod;
    fromMs: number;
    toMs: number;
    entities?: readonly string[];
    kpi?: string;
  },
): Promise<StoredKpi[]> {
  const only =
    (entities ? ` AND (${entities.map((e) => `entity = ${quoteString(e)}`).join(' OR ')})` : '') +
    (kpi === undefined ? '' : ` AND kpi = ${quoteString(kpi)}`);
  return storedKpis(
    await influx.query(
      `SELECT ${KPI_FIELDS} FROM ${MEASUREMENTS.kpi} ` +
        `WHERE scope = ${quoteString(scope)} AND period = ${quoteString(period)}${only} ` +
        `AND time >= ${fromMs}ms AND time < ${toMs}ms GROUP BY entity, kpi, category`,
    ),
  );
}

/**
 * Each entity's latest point of one KPI (without a category) of a scope and period stamped in [fromMs, toMs): what an
 * alert rule judges.
 */
export async function readLatestKpis(
  influx: InfluxClient,
  {
    scope,
    kpi,
    period,
    fromMs,
    toMs,
  }: { scope: KpiScope; kpi: string; period: KpiPeriod; fromMs: number; toMs: number },
): Promise<Map<string, StoredKpi>> {
  const latest = storedKpis(
    await influx.query(
      `SELECT ${KPI_FIELDS} FROM ${MEASUREMENTS.kpi} WHERE scope = ${quoteString(scope)} AND kpi = ${quoteString(kpi)} ` +
        `AND period = ${quoteString(period)} AND category = '' AND time >= ${fromMs}ms AND time < ${toMs}ms ` +
        `GROUP BY entity, kpi ORDER BY time DESC LIMIT 1`,
    ),
  );
  return new Map(latest.map((k) => [k.entity, k]));
}

function storedKpis(series: readonly InfluxSeries[]): StoredKpi[] {
  return series.flatMap((s) =>
    s.rows.map((r) => ({
      entity: s.tags['entity']!,
      kpi: s.tags['kpi']!,
      ...(s.tags['category'] ? { category: s.tags['category'] } : {}),
      windowStartMs: r['time'] as number,
      value: typeof r['value'] === 'number' ? r['value'] : null,
      numerator: Number(r['numerator'] ?? 0),
      denominator: Number(r['denominator'] ?? 0),
      completeness: Number(r['completeness'] ?? 0),
      estimated: r['estimated'] === true,
      estimatedShare: Number(r['estimated_share'] ?? 0),
      ...(typeof r['elapsed'] === 'number' ? { elapsed: r['elapsed'] } : {}),
      ...(typeof r['undeclared'] === 'boolean' ? { undeclared: r['undeclared'] } : {}),
      ...(typeof r['no_tariff'] === 'boolean' ? { noTariff: r['no_tariff'] } : {}),
      ...(typeof r['at_ms'] === 'number' ? { atMs: r['at_ms'] } : {}),
      ...(typeof r['batches'] === 'string' && r['batches'] ? { batches: r['batches'].split(',') } : {}),
    })),
  );
}
