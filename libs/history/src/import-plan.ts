import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { CUMULATIVE_METRICS, MEASUREMENTS, METRICS, type MetricName } from '@peakwatch/contracts';
import { MAX_BRIDGED_GAP_MS } from '@peakwatch/domain';
import { floatField, intField, line, quoteString, type InfluxClient } from '@peakwatch/influx';
import {
  kpiFactorsFor,
  periodEnergy,
  readKpis,
  readQuarters,
  siteKpis,
  windowsOf,
  type DeviceQuarters,
  type KpiValue,
  type ReadingOverlay,
} from '@peakwatch/metering';
import type { PolicyData } from '@peakwatch/policy';
import type { Registry } from '@peakwatch/registry';
import type { StateStore } from '@peakwatch/state';
import {
  intervalRow,
  isProblem,
  layoutOf,
  parseZone,
  readingRow,
  ImportFileError,
  type ImportLayout,
  type ImportedInterval,
  type RowContext,
  type RowProblem,
} from './import-rows';
import { fileKindOf, sourceRows, type ImportFileKind } from './import-source';

/** What an import is asked to do (docs/imports.md). */
export interface ImportRequest {
  /** The file on disk. */
  path: string;
  /** The name it is recorded under (the uploaded name, or the path's base name). */
  fileName?: string;
  /** The zone of times written without an offset (and of XLSX dates): `+08:00` or an IANA name. */
  zone?: string;
  /** Replace stored readings at the same device and time instead of refusing those rows. */
  replace?: boolean;
  /** Sites the caller may import into (none: every site). */
  allowedSites?: ReadonlySet<string>;
  /** What the file is (the API: from its Content-Type); by default from the file name's extension. */
  kind?: ImportFileKind;
  /** Called with the rows read so far, after each row (the command line's progress). */
  onRowsRead?: (rows: number) => void;
}

/** The readings of one device and metric, in the order of the file until sorted. */
interface Series {
  ts: number[];
  value: number[];
  row: number[];
}

/** A device's imported readings by metric, and what the dry run found for it. */
interface DeviceImport {
  siteId: string;
  deviceId: string;
  metrics: Map<MetricName, Series>;
  /** Stored points this import would replace (--replace), by time: every stored series's row at that time. */
  replaced: Map<number, Record<string, unknown>[]>;
}

/** A version of an emitter's report. */
export interface ReportRef {
  orgId: string;
  period: string;
  version: number;
}

/** A stored (or, `after`, imported) meter's energy in a window, per register. */
export interface MeterWindow {
  deviceId: string;
  metric: MetricName;
  /** kWh or m³ booked to the window (register rules applied); null: no value. */
  before: number | null;
  after: number | null;
  /** Deltas the register rules could not explain (unexplained drops, implausible jumps) after the import. */
  anomaliesAfter: number;
}

/** One KPI window of a site the import changes: its meters before and after, and its stored KPIs now. */
export interface AffectedWindow {
  siteId: string;
  period: '1mo' | '1y';
  /** YYYY-MM or YYYY in the reporting zone. */
  label: string;
  startMs: number;
  meters: MeterWindow[];
  /**
   * The site's `energy_kwh` and `co2_t` of the window: as stored now, and as the site KPI code computes them from its
   * days before and after the import (null: no value). A month and a year are the sums of their days.
   */
  kpis: Record<string, { stored: number | null; before: number | null; after: number | null }>;
}

/** The dry run: what the import would write, replace and restate. Nothing has been written. */
export interface ImportPlan {
  fileName: string;
  fileSha256: string;
  layout: ImportLayout;
  rows: { read: number; accepted: number; rejected: number; replaced: number };
  /** The first REJECTIONS_LISTED refused rows (every one is kept with the batch). */
  rejections: RowProblem[];
  /** Every refused row, counted by reason. */
  rejectionCounts: Record<string, number>;
  devices: {
    siteId: string;
    deviceId: string;
    readings: number;
    replaced: number;
    fromMs: number;
    toMs: number;
  }[];
  /** Per site, the fixed windows the import's spans touch (recomputed once applied). */
  windowCounts: Record<string, Record<'15m' | '1h' | '1d', number>>;
  windows: AffectedWindow[];
  /** The report versions stored for the periods touched: each is restated once applied. */
  reports: ReportRef[];
}

/** The months of a device the retention job down-sampled that reach into [fromMs, toMs] (docs/retention.md). */
export async function downsampledMonths(
  influx: InfluxClient,
  deviceId: string,
  fromMs: number,
  toMs: number,
): Promise<{ fromMs: number; toMs: number }[]> {
  const series = await influx.query(
    `SELECT to_ms FROM ${MEASUREMENTS.telemetryDownsampled} WHERE device = ${quoteString(deviceId)} ` +
      `AND time > ${fromMs - 32 * 86_400_000}ms AND time <= ${toMs}ms`,
  );
  return series
    .flatMap((x) => x.rows)
    .map((r) => ({ fromMs: r['time'] as number, toMs: r['to_ms'] as number }))
    .filter((m) => m.toMs > fromMs);
}

/** The plan and what applying it needs besides (held in memory, not shown). */
export interface PlannedImport {
  plan: ImportPlan;
  /** Line protocol of every accepted reading, without the batch tag (added when applied). */
  points: (batchId: string) => Generator<string>;
  /** Stored points to replace: device, time and the point as it is stored (each series's). */
  replaced: { deviceId: string; tsMs: number; line: string }[];
  /** Every refused row. */
  rejections: RowProblem[];
}

/** The span of stored points a dry run reads at once, looking for readings at the file's times (30 days). */
const CONFLICT_CHUNK_MS = 30 * 86_400_000;
/** Refused rows a plan lists (all of them are kept with the batch); `rejectionCounts` counts every one. */
export const REJECTIONS_LISTED = 1000;

/** Tags of a stored telemetry point, as line protocol writes them back. */
const TELEMETRY_TAGS = ['batch', 'device', 'district', 'kind', 'role', 'site'] as const;

/** The fields of a stored telemetry row (SELECT * gives tags and fields) as line protocol writes them. */
function storedFields(row: Record<string, unknown>): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const m of Object.keys(METRICS)) if (typeof row[m] === 'number') fields[m] = floatField(row[m]);
  if (typeof row['seq'] === 'number') fields['seq'] = intField(row['seq']);
  return fields;
}

/** A stored telemetry row as line protocol, to write it back unchanged. */
function storedLine(row: Record<string, unknown>): string {
  const tags: Record<string, string> = {};
  for (const t of TELEMETRY_TAGS) if (typeof row[t] === 'string' && row[t] !== '') tags[t] = row[t];
  return line(MEASUREMENTS.telemetry, tags, storedFields(row), row['time'] as number);
}

/** The file's SHA-256 (hex), streamed. */
async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function addTo(s: Series, tsMs: number, value: number, row: number): void {
  s.ts.push(tsMs);
  s.value.push(value);
  s.row.push(row);
}

function seriesOf(device: DeviceImport, metric: MetricName): Series {
  let s = device.metrics.get(metric);
  if (!s) device.metrics.set(metric, (s = { ts: [], value: [], row: [] }));
  return s;
}

/** Sorts a series by time (stable: the file's order on the same time). */
function sortSeries(s: Series): void {
  const order = s.ts.map((_, i) => i).sort((a, b) => s.ts[a]! - s.ts[b]! || a - b);
  s.ts = order.map((i) => s.ts[i]!);
  s.value = order.map((i) => s.value[i]!);
  s.row = order.map((i) => s.row[i]!);
}

/** Keeps the readings of a series for which `keep(i)` holds. */
function filterSeries(s: Series, keep: (i: number) => boolean): void {
  const kept = s.ts.map((_, i) => i).filter(keep);
  s.ts = kept.map((i) => s.ts[i]!);
  s.value = kept.map((i) => s.value[i]!);
  s.row = kept.map((i) => s.row[i]!);
}

/** The first index of sorted `ts` at or after `ms`. */
function lowerBound(ts: readonly number[], ms: number): number {
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ts[mid]! < ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Interval energy as register readings of the meter (docs/imports.md, "Interval energy"): a register counting from 0
 * at the device's first period, one reading at each period's start and end. A device's periods must follow each
 * other without gap or overlap (a gap's energy would read as none).
 */
function intervalReadings(
  intervals: ImportedInterval[],
  add: (i: ImportedInterval, tsMs: number, value: number) => void,
  refuse: (problem: RowProblem) => void,
): void {
  const byDevice = new Map<string, ImportedInterval[]>();
  for (const i of intervals) {
    const key = `${i.deviceId}\u0000${i.metric}`;
    const list = byDevice.get(key);
    if (list) list.push(i);
    else byDevice.set(key, [i]);
  }
  for (const list of byDevice.values()) {
    list.sort((a, b) => a.startMs - b.startMs || a.row - b.row);
    let register = 0;
    let previous: ImportedInterval | undefined;
    for (const i of list) {
      if (previous && i.startMs < previous.endMs) {
        refuse({
          row: i.row,
          field: 'start',
          reason: 'overlapping_period',
          detail: `overlaps row ${previous.row} of ${i.deviceId}`,
        });
        continue;
      }
      if (previous && i.startMs > previous.endMs) {
        refuse({
          row: i.row,
          field: 'start',
          reason: 'bad_period',
          detail: `${i.deviceId}'s previous period (row ${previous.row}) ends at ${new Date(previous.endMs).toISOString()}: periods must follow each other`,
        });
        continue;
      }
      if (!previous) add(i, i.startMs, register);
      register += i.energy;
      add(i, i.endMs, register);
      previous = i;
    }
  }
}

/**
 * The dry run of an import: reads the file once (streamed), judges every row, and works out what writing it would
 * change: readings added and replaced, conflicts with stored readings, the register rules' view of the result, the
 * meters' energy before and after in each month and year touched, the stored KPIs of those windows, and the report
 * versions to restate. Writes nothing.
 */
export async function planImport(
  request: ImportRequest,
  {
    registry,
    influx,
    state,
    utcOffsetMs,
    nowMs,
    maxFutureMs,
    horizonMs,
    policy,
  }: {
    registry: Registry;
    /** The factors of the KPIs shown before and after. */
    policy: PolicyData;
    influx: InfluxClient;
    state?: StateStore;
    utcOffsetMs: number;
    nowMs: number;
    maxFutureMs: number;
    /** INGEST_HORIZON_DAYS: quarter hours and hours are recomputed within it only. */
    horizonMs: number;
  },
): Promise<PlannedImport> {
  const fileName = request.fileName ?? basename(request.path);
  const kind = request.kind ?? fileKindOf(fileName);
  const zone = request.zone === undefined ? undefined : parseZone(request.zone);
  if (request.zone !== undefined && zone === undefined)
    throw new ImportFileError(
      `--tz ${JSON.stringify(request.zone.slice(0, 40))}: expected +08:00 or a zone name`,
      'tz',
    );
  const context: RowContext = {
    registry,
    nowMs,
    maxFutureMs,
    ...(zone ? { zone } : {}),
    ...(request.allowedSites ? { allowedSites: request.allowedSites } : {}),
  };
  const rejections: RowProblem[] = [];
  const devices = new Map<string, DeviceImport>();
  const deviceOf = (siteId: string, deviceId: string): DeviceImport => {
    let d = devices.get(deviceId);
    if (!d) devices.set(deviceId, (d = { siteId, deviceId, metrics: new Map(), replaced: new Map() }));
    return d;
  };
  let layout: ImportLayout | undefined;
  let read = 0;
  const intervals: ImportedInterval[] = [];
  const [fileSha256] = await Promise.all([
    sha256Of(request.path),
    (async () => {
      for await (const { row, cells, extraCells } of sourceRows(
        request.path,
        kind,
        (header) => (layout = layoutOf(header)),
      )) {
        read++;
        request.onRowsRead?.(read);
        if (extraCells) {
          rejections.push({
            row,
            field: 'row',
            reason: 'bad_value',
            detail: 'more cells than the header has columns',
          });
          continue;
        }
        if (layout === 'readings') {
          const r = readingRow(cells, row, context);
          if (isProblem(r)) rejections.push(r);
          else addTo(seriesOf(deviceOf(r.siteId, r.deviceId), r.metric), r.tsMs, r.value, r.row);
        } else {
          const r = intervalRow(cells, row, context);
          if (isProblem(r)) rejections.push(r);
          else intervals.push(r);
        }
      }
    })(),
  ]);
  intervalReadings(
    intervals,
    (i, tsMs, value) => addTo(seriesOf(deviceOf(i.siteId, i.deviceId), i.metric), tsMs, value, i.row),
    (problem) => rejections.push(problem),
  );

  // the same device, metric and time twice in the file: the later row is refused
  for (const device of devices.values())
    for (const [metric, s] of device.metrics) {
      sortSeries(s);
      if (layout === 'intervals') continue; // a period's end and the next one's start are one reading
      const dropped = new Set<number>();
      for (let i = 1; i < s.ts.length; i++)
        if (s.ts[i] === s.ts[i - 1]) {
          dropped.add(i);
          rejections.push({
            row: s.row[i]!,
            field: 'ts',
            reason: 'duplicate_row',
            detail: `${device.deviceId} ${metric} at ${new Date(s.ts[i]!).toISOString()} is also on row ${s.row[i - 1]}`,
          });
        }
      if (dropped.size > 0) filterSeries(s, (i) => !dropped.has(i));
    }

  // stored readings at the same device and time: refused, or (--replace) replaced and kept for a rollback
  for (const device of devices.values()) {
    const all = [...device.metrics.values()]
      .flatMap((s) => [s.ts[0]!, s.ts.at(-1)!])
      .filter((t) => t !== undefined);
    if (all.length === 0) continue;
    const from = Math.min(...all);
    const to = Math.max(...all);
    if (layout === 'intervals') {
      // a register counted from 0 cannot be joined to the meter's own readings within the bridged gap
      const near = await influx.query(
        `SELECT count(*) FROM ${MEASUREMENTS.telemetry} WHERE device = ${quoteString(device.deviceId)} ` +
          `AND time >= ${from - MAX_BRIDGED_GAP_MS}ms AND time <= ${to + MAX_BRIDGED_GAP_MS}ms`,
      );
      if (near.some((series) => series.rows.length > 0))
        for (const s of device.metrics.values()) {
          for (const row of new Set(s.row))
            rejections.push({
              row,
              field: 'device',
              reason: 'conflict_with_live',
              detail: `${device.deviceId} has stored readings within 35 days of these periods: import its register readings instead`,
            });
          filterSeries(s, () => false);
        }
      continue;
    }
    // a month the retention job down-sampled holds snapshots, not readings: nothing can be added to it
    const months = await downsampledMonths(influx, device.deviceId, from, to);
    if (months.length > 0)
      for (const [metric, s] of device.metrics) {
        const refused = new Set<number>();
        s.ts.forEach((ts, i) => {
          const month = months.find((m) => ts >= m.fromMs && ts < m.toMs);
          if (!month) return;
          refused.add(i);
          rejections.push({
            row: s.row[i]!,
            field: 'ts',
            reason: 'month_downsampled',
            detail: `${device.deviceId}'s readings of the month from ${new Date(month.fromMs).toISOString()} were down-sampled by retention (docs/retention.md): nothing can be imported into it`,
          });
        });
        if (refused.size > 0) filterSeries(s, (i) => !refused.has(i));
        if (s.ts.length === 0) device.metrics.delete(metric);
      }
    if (device.metrics.size === 0) continue;
    // the stored points at the file's times (every series: live, and earlier imports'), a month at a time
    const storedAt = new Map<number, Record<string, unknown>[]>();
    for (let chunk = from; chunk <= to; chunk += CONFLICT_CHUNK_MS) {
      const series = await influx.query(
        `SELECT * FROM ${MEASUREMENTS.telemetry} WHERE device = ${quoteString(device.deviceId)} ` +
          `AND time >= ${chunk}ms AND time < ${Math.min(chunk + CONFLICT_CHUNK_MS, to + 1)}ms`,
      );
      const metrics = [...device.metrics.values()];
      for (const row of series.flatMap((x) => x.rows)) {
        const ts = row['time'] as number;
        const imported = metrics.some((m) => m.ts[lowerBound(m.ts, ts)] === ts);
        if (imported) storedAt.set(ts, [...(storedAt.get(ts) ?? []), row]);
      }
    }
    for (const [metric, s] of device.metrics) {
      const refused = new Set<number>();
      s.ts.forEach((ts, i) => {
        const existing = storedAt.get(ts);
        if (!existing) return;
        if (request.replace) {
          device.replaced.set(ts, existing);
          return;
        }
        refused.add(i);
        const batch = existing
          .map((r) => r['batch'])
          .find((b): b is string => typeof b === 'string' && b !== '');
        rejections.push({
          row: s.row[i]!,
          field: 'ts',
          reason: batch ? 'conflict_with_import' : 'conflict_with_live',
          detail: `${device.deviceId} already has a reading at ${new Date(ts).toISOString()}${batch ? ` (import ${batch})` : ''}: --replace replaces it`,
        });
      });
      if (refused.size > 0) filterSeries(s, (i) => !refused.has(i));
      if (s.ts.length === 0) device.metrics.delete(metric);
    }
  }
  for (const [id, device] of devices) if (device.metrics.size === 0) devices.delete(id);

  // every row read is accepted or refused (an interval row's readings go with it)
  const refusedRows = new Set(rejections.map((r) => r.row));

  const deviceSummaries = [...devices.values()].map((d) => {
    const ts = [...d.metrics.values()].flatMap((s) => [s.ts[0]!, s.ts.at(-1)!]);
    return {
      siteId: d.siteId,
      deviceId: d.deviceId,
      readings: [...d.metrics.values()].reduce((n, s) => n + s.ts.length, 0),
      replaced: d.replaced.size,
      fromMs: Math.min(...ts),
      toMs: Math.max(...ts),
    };
  });
  const { windowCounts, windows } = await affectedWindows(
    [...devices.values()],
    deviceSummaries,
    registry,
    influx,
    policy,
    utcOffsetMs,
    nowMs - horizonMs,
  );
  const sortedRejections = rejections.sort((a, b) => a.row - b.row || a.field.localeCompare(b.field));
  const plan: ImportPlan = {
    fileName,
    fileSha256,
    layout: layout ?? 'readings',
    rows: {
      read,
      accepted: read - refusedRows.size,
      rejected: refusedRows.size,
      replaced: [...devices.values()].reduce((n, d) => n + d.replaced.size, 0),
    },
    rejections: sortedRejections.slice(0, REJECTIONS_LISTED),
    rejectionCounts: countBy(sortedRejections.map((r) => r.reason)),
    devices: deviceSummaries,
    windowCounts,
    windows,
    reports: state ? await reportsTouched(state, registry, windows) : [],
  };
  return {
    plan,
    points: function* (batchId: string) {
      for (const d of devices.values()) {
        const registered = registry.device(d.deviceId)!;
        const tags = {
          batch: batchId,
          site: registered.site.id,
          device: registered.device.id,
          kind: registered.device.kind,
          role: registered.device.role,
          district: registered.site.district,
        };
        // a replaced point keeps what the file does not replace (a power, a sequence number) in the batch's point
        const kept = new Map<number, Record<string, string>>();
        for (const [ts, rows] of d.replaced)
          kept.set(
            ts,
            rows.map(storedFields).reduce((all, f) => ({ ...all, ...f }), {} as Record<string, string>),
          );
        for (const [metric, s] of d.metrics)
          for (const ts of s.ts) if (kept.has(ts)) delete kept.get(ts)![metric];
        for (const [metric, s] of d.metrics)
          for (let i = 0; i < s.ts.length; i++)
            yield line(
              MEASUREMENTS.telemetry,
              tags,
              { ...kept.get(s.ts[i]!), [metric]: floatField(s.value[i]!) },
              s.ts[i]!,
            );
      }
    },
    replaced: [...devices.values()].flatMap((d) =>
      [...d.replaced].flatMap(([tsMs, rows]) =>
        rows.map((row) => ({ deviceId: d.deviceId, tsMs, line: storedLine(row) })),
      ),
    ),
    rejections: sortedRejections,
  };
}

/**
 * The overlay of the devices' imported readings in [fromMs, toMs], with each register's last one before and first one
 * after (what the meter read books the range's edges from): rows as the meter read reads them.
 */
function overlayOf(devices: readonly DeviceImport[], fromMs: number, toMs: number): ReadingOverlay {
  const overlay = new Map<string, Record<string, unknown>[]>();
  for (const d of devices) {
    const byTime = new Map<number, Record<string, unknown>>();
    for (const [metric, s] of d.metrics) {
      const first = Math.max(0, lowerBound(s.ts, fromMs) - 1);
      const end = Math.min(s.ts.length, lowerBound(s.ts, toMs + 1) + 1);
      for (let i = first; i < end; i++) {
        const ts = s.ts[i]!;
        let row = byTime.get(ts);
        if (!row) byTime.set(ts, (row = { time: ts }));
        row[metric] = s.value[i];
      }
    }
    overlay.set(d.deviceId, [...byTime.values()]);
  }
  return overlay;
}

/** The KPIs shown before an import in the windows it touches. */
const KPIS_SHOWN = ['energy_kwh', 'co2_t'];

/**
 * Per site: the fixed windows the import's spans touch (counted), and its months and years with each meter's energy
 * before and after (the meter read of the KPIs and reports, with the import laid over the stored readings).
 */
async function affectedWindows(
  devices: readonly DeviceImport[],
  summaries: ImportPlan['devices'],
  registry: Registry,
  influx: InfluxClient,
  policy: PolicyData,
  utcOffsetMs: number,
  /** Quarter hours and hours before it are not recomputed. */
  fineFromMs: number,
): Promise<{ windowCounts: ImportPlan['windowCounts']; windows: AffectedWindow[] }> {
  const windowCounts: ImportPlan['windowCounts'] = {};
  const windows: AffectedWindow[] = [];
  for (const siteId of [...new Set(summaries.map((d) => d.siteId))]) {
    const site = registry.site(siteId)!;
    const mine = summaries.filter((d) => d.siteId === siteId);
    const fromMs = Math.min(...mine.map((d) => d.fromMs));
    const toMs = Math.max(...mine.map((d) => d.toMs)) + 1;
    const count = (period: '15m' | '1h' | '1d'): number =>
      new Set(
        mine.flatMap((d) =>
          windowsOf(
            period,
            period === '1d' ? d.fromMs : Math.max(d.fromMs, fineFromMs),
            d.toMs + 1,
            utcOffsetMs,
          ).map((w) => w.startMs),
        ),
      ).size;
    windowCounts[siteId] = { '15m': count('15m'), '1h': count('1h'), '1d': count('1d') };
    const siteDevices = devices.filter((d) => d.siteId === siteId);
    const months: AffectedWindow[] = [];
    for (const month of windowsOf('1mo', fromMs, toMs, utcOffsetMs)) {
      const overlay = overlayOf(siteDevices, month.startMs, month.endMs);
      const [before, after] = await Promise.all([
        readQuarters(influx, site.devices, month.startMs, month.endMs),
        readQuarters(influx, site.devices, month.startMs, month.endMs, undefined, overlay),
      ]);
      const meters: MeterWindow[] = [];
      for (const [i, q] of after.entries())
        for (const metric of CUMULATIVE_METRICS) {
          const sum = (quarters: typeof q.quarters): { energy: number | null; unknown: number } => {
            let energy: number | null = null;
            let unknown = 0;
            for (const w of quarters.get(metric) ?? [])
              if (w.startMs >= month.startMs && w.startMs < month.endMs) {
                if (w.energy !== null) energy = (energy ?? 0) + w.energy;
                unknown += w.unknown;
              }
            return { energy, unknown };
          };
          const b = sum(before[i]!.quarters);
          const a = sum(q.quarters);
          if (a.energy === null && b.energy === null && a.unknown === 0) continue;
          if (a.energy === b.energy && a.unknown === b.unknown) continue;
          meters.push({
            deviceId: q.device.id,
            metric,
            before: b.energy,
            after: a.energy,
            anomaliesAfter: a.unknown,
          });
        }
      const label = new Date(month.startMs + utcOffsetMs).toISOString().slice(0, 7);
      // the site's KPIs of the month's days, by the code of the KPI job, from the readings without and with the file
      const factors = kpiFactorsFor(
        policy,
        Number(label.slice(0, 4)),
        new Date(month.endMs - 1 + utcOffsetMs).toISOString().slice(0, 10),
      );
      const daysOf = (quarters: DeviceQuarters[]): KpiValue[] =>
        siteKpis({
          site,
          devices: quarters.map((q) => periodEnergy(q, '1d', month.startMs, month.endMs, utcOffsetMs)),
          fromMs: month.startMs,
          toMs: month.endMs,
          period: '1d',
          utcOffsetMs,
          factors,
        });
      const [daysBefore, daysAfter] = [daysOf(before), daysOf(after)];
      const kpis: AffectedWindow['kpis'] = {};
      for (const kpi of KPIS_SHOWN)
        kpis[kpi] = { stored: null, before: sumOf(daysBefore, kpi), after: sumOf(daysAfter, kpi) };
      months.push({ siteId, period: '1mo', label, startMs: month.startMs, meters, kpis });
    }
    // a year's meters: the sum of its months'
    const years = new Map<string, AffectedWindow>();
    for (const m of months) {
      const label = m.label.slice(0, 4);
      let year = years.get(label);
      if (!year) {
        const startMs = windowsOf('1y', m.startMs, m.startMs + 1, utcOffsetMs)[0]!.startMs;
        years.set(label, (year = { siteId, period: '1y', label, startMs, meters: [], kpis: {} }));
      }
      for (const kpi of KPIS_SHOWN) {
        const y = (year.kpis[kpi] ??= { stored: null, before: null, after: null });
        y.before = addNullable(y.before, m.kpis[kpi]!.before);
        y.after = addNullable(y.after, m.kpis[kpi]!.after);
      }
      for (const meter of m.meters) {
        const same = year.meters.find((x) => x.deviceId === meter.deviceId && x.metric === meter.metric);
        if (same) {
          same.before = addNullable(same.before, meter.before);
          same.after = addNullable(same.after, meter.after);
          same.anomaliesAfter += meter.anomaliesAfter;
        } else year.meters.push({ ...meter });
      }
    }
    for (const w of [...months, ...years.values()]) {
      const stored = await readKpis(influx, {
        scope: 'site',
        period: w.period,
        fromMs: w.startMs,
        toMs: w.startMs + 1,
        entities: [siteId],
      });
      for (const kpi of KPIS_SHOWN)
        w.kpis[kpi]!.stored = stored.find((k) => k.kpi === kpi && !k.category)?.value ?? null;
      windows.push(w);
    }
  }
  return { windowCounts, windows };
}

/** The latest stored version of each report of the touched sites' emitters for the months and years touched. */
export async function reportsTouched(
  state: StateStore,
  registry: Registry,
  windows: readonly AffectedWindow[],
): Promise<ImportPlan['reports']> {
  const periodsByOrg = new Map<string, Set<string>>();
  for (const w of windows) {
    const org = registry.site(w.siteId)?.emitter?.id;
    if (org) periodsByOrg.set(org, (periodsByOrg.get(org) ?? new Set()).add(w.label));
  }
  if (periodsByOrg.size === 0) return [];
  const rows = await state.db
    .selectFrom('report')
    .select(['org_id', 'period', 'version'])
    .where('org_id', 'in', [...periodsByOrg.keys()])
    .execute();
  const latest = new Map<string, ReportRef>();
  for (const r of rows) {
    if (!periodsByOrg.get(r.org_id)?.has(r.period)) continue;
    const key = `${r.org_id} ${r.period}`;
    if ((latest.get(key)?.version ?? 0) < Number(r.version))
      latest.set(key, { orgId: r.org_id, period: r.period, version: Number(r.version) });
  }
  return [...latest.values()].sort(
    (a, b) => a.orgId.localeCompare(b.orgId) || a.period.localeCompare(b.period),
  );
}

function countBy(keys: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of keys) out[k] = (out[k] ?? 0) + 1;
  return out;
}

/** A sum of values that may be missing: none when both are. */
const addNullable = (x: number | null, y: number | null): number | null =>
  x === null && y === null ? null : (x ?? 0) + (y ?? 0);

/** The sum of a KPI's values over windows (days): none when no window has one. */
function sumOf(values: readonly KpiValue[], kpi: string): number | null {
  return values
    .filter((k) => k.kpi === kpi && !k.category)
    .reduce<number | null>((sum, k) => addNullable(sum, k.value), null);
}
