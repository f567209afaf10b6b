import { CUMULATIVE_METRICS, METRICS, MEASUREMENTS, type MetricName } from '@peakwatch/contracts';
import {
  MAX_BRIDGED_GAP_MS,
  bookIntoWindows,
  registerDeltas,
  type RegisterEvent,
  type WindowEnergy,
} from '@peakwatch/domain';
import { quoteString, type InfluxClient, type InfluxSeries } from '@peakwatch/influx';
import { readingIntervalMs, removedAtMs, type Device } from '@peakwatch/registry';
import { periodWindow, type FixedPeriod } from './periods';

const QUARTER_MS = 900_000;

/** A metric's energy in one window of the period: `known` counts quarters with a value (none: no data). */
export interface WindowSum {
  energy: number;
  /** The part of `energy` spread into the window over a gap. */
  estimatedEnergy: number;
  estimated: boolean;
  known: number;
  /** Deltas without a value: unexplained register drops and implausible jumps (libs/domain register rules). */
  anomalies: number;
  /**
   * The window's 15-minute energies with a value, in time order (for the peak demand, of those not `estimated`, and
   * the cost, which prices each quarter at its band).
   */
  quarters: WindowEnergy[];
}

export interface DeviceEnergy {
  device: Device;
  /** Energy per cumulative metric, per window of the period (by window start). */
  windows: Map<MetricName, Map<number, WindowSum>>;
  /** Readings received per window of the period. */
  readingsByWindow: Map<number, number>;
  /** The import batches whose readings fall in each window of the period (none: only live readings). */
  batchesByWindow: Map<number, Set<string>>;
}

/** Register metrics of electricity, which a device's rated power bounds. */
const ELECTRIC_METRICS = new Set<MetricName>(['energy_import_kwh', 'energy_export_kwh']);

/** A window with nothing booked yet. */
export const emptySum = (): WindowSum => ({
  energy: 0,
  estimatedEnergy: 0,
  estimated: false,
  known: 0,
  anomalies: 0,
  quarters: [],
});
/**
 * How far before a range its last earlier reading is looked for, and after it its first later one: a delta across
 * the range's start or end is spread over the gap between the two readings, so the range receives its share of it
 * however long the meter was silent (a month start after a silent night loses nothing, nor a month end before one),
 * up to the longest silence that is bridged (libs/domain MAX_BRIDGED_GAP_MS).
 */
const NEIGHBOUR_READING_MS = MAX_BRIDGED_GAP_MS;

/** A device's register energy booked into 15-minute quarters (register rules applied) and its readings. */
export interface DeviceQuarters {
  device: Device;
  quarters: Map<MetricName, WindowEnergy[]>;
  /** Readings received in each quarter of the range read, by quarter start. */
  readingsByQuarter: Map<number, number>;
  /** The import batches of the readings of each quarter of the range read, by quarter start (docs/imports.md). */
  batchesByQuarter: Map<number, Set<string>>;
}

/** Rows of a query grouped by device, by device id. */
type ByDevice = ReadonlyMap<string, Record<string, unknown>[]>;
const byDevice = (series: readonly InfluxSeries[]): ByDevice => {
  const out = new Map<string, Record<string, unknown>[]>();
  for (const s of series) {
    // an import's points are series of their own (tag `batch`): their rows say which batch they are
    const batch = s.tags['batch'];
    const rows = batch ? s.rows.map((r) => ({ ...r, batch })) : s.rows;
    const device = s.tags['device']!;
    const known = out.get(device);
    if (known) known.push(...rows);
    else out.set(device, rows);
  }
  return out;
};

/**
 * What readQuarters reads around a range besides the range itself: each device's last reading before it and first
 * after it (NEIGHBOUR_READING_MS), and the meter events of the whole span.
 */
export interface NeighbourReads {
  previous: ByDevice;
  following: ByDevice;
  meterEvents: ByDevice;
  /** The down-sampled months (docs/retention.md) that reach into the span. */
  downsampled: ByDevice;
}

/** Longer than any month: how far before a span a down-sampled month reaching into it may start. */
const LONGEST_MONTH_MS = 32 * 86_400_000;

/** The reads around [fromMs, toMs] for `only` (an InfluxQL condition on devices), or for every device. */
async function neighbourReads(
  influx: InfluxClient,
  fromMs: number,
  toMs: number,
  only?: string,
): Promise<NeighbourReads> {
  const devices = only ? `(${only}) AND ` : '';
  const fields = CUMULATIVE_METRICS.map((m) => `"${m}"`).join(', ');
  const lookback = `time >= ${fromMs - NEIGHBOUR_READING_MS}ms`;
  const lookahead = `time <= ${toMs + NEIGHBOUR_READING_MS}ms`;
  // separate requests, not one of several statements: not every InfluxDB's v1 /query takes several
  const [previous, following, meterEvents, downsampled] = await Promise.all([
    // each device's last reading before the range
    influx.query(
      `SELECT ${fields} FROM ${MEASUREMENTS.telemetry} WHERE ${devices}${lookback} AND time < ${fromMs}ms ` +
        'GROUP BY device ORDER BY time DESC LIMIT 1',
    ),
    // and its first reading after it
    influx.query(
      `SELECT ${fields} FROM ${MEASUREMENTS.telemetry} WHERE ${devices}time > ${toMs}ms AND ${lookahead} ` +
        'GROUP BY device LIMIT 1',
    ),
    influx.query(
      `SELECT * FROM ${MEASUREMENTS.meterEvent} WHERE ${devices}${lookback} AND ${lookahead} GROUP BY device`,
    ),
    influx.query(
      `SELECT * FROM ${MEASUREMENTS.telemetryDownsampled} WHERE ${devices}` +
        `time > ${fromMs - NEIGHBOUR_READING_MS - LONGEST_MONTH_MS}ms AND ${lookahead} GROUP BY device`,
    ),
  ]);
  const reaching = new Map(
    [...byDevice(downsampled)].map(([device, rows]) => [
      device,
      rows.filter((r) => (r['to_ms'] as number) > fromMs - NEIGHBOUR_READING_MS),
    ]),
  );
  return {
    previous: byDevice(previous),
    following: byDevice(following),
    meterEvents: byDevice(meterEvents),
    downsampled: reaching,
  };
}

/**
 * The reads around [fromMs, toMs] of every device at once, or of the devices of `siteIds` (a replica's share of the
 * sites): three queries for a run over many sites instead of three per site (pass them to readQuarters for each site).
 */
export function readNeighbours(
  influx: InfluxClient,
  fromMs: number,
  toMs: number,
  siteIds?: readonly string[],
): Promise<NeighbourReads> {
  return neighbourReads(influx, fromMs, toMs, siteIds?.map((id) => `site = ${quoteString(id)}`).join(' OR '));
}

/** Readings to book as if they were stored, by device id: rows with `time` (ms) and metric fields. */
export type ReadingOverlay = ReadonlyMap<string, readonly Record<string, unknown>[]>;

/**
 * A meter's rows as stored, in the order they are booked: its register readings (`time` in ms, the cumulative metric
 * fields, `batch` for an imported one) and its meter events (`time`, `type`, `final_<metric>`, `start_<metric>`). What
 * a report's evidence bundle keeps of each meter (docs/reports.md, "Evidence bundle").
 */
export interface MeterRows {
  device: Device;
  readings: Record<string, unknown>[];
  events: Record<string, unknown>[];
  /**
   * Its months down-sampled by the retention job that reach into the span read (`time` the month's start, `to_ms`,
   * `readings`, the first and last reading of each register metric), and the quarter snapshots of those months within
   * the range (`time` the quarter's start, `readings`, `batches`, per metric the quarter as booked): docs/retention.md.
   */
  downsampled: Record<string, unknown>[];
  quarters: Record<string, unknown>[];
}

/**
 * Reads the cumulative registers and meter events of `devices` for [fromMs, toMs], with each device's last reading
 * before the range and first after it (NEIGHBOUR_READING_MS). Readings up to `toMs` inclusive: the reading on the
 * boundary closes the last window. `neighbours`, read once for many sites (readNeighbours) over the same range, stand
 * for the reads around the range of these devices. `overlay` adds readings that are not stored (an import's dry run,
 * docs/imports.md): on the time of a stored one they replace it.
 */
export async function readMeterRows(
  influx: InfluxClient,
  devices: readonly Device[],
  fromMs: number,
  toMs: number,
  neighbours?: NeighbourReads,
  overlay?: ReadingOverlay,
): Promise<MeterRows[]> {
  const only = devices.map((d) => `device = ${quoteString(d.id)}`).join(' OR ');
  const fields = CUMULATIVE_METRICS.map((m) => `"${m}"`).join(', ');
  const [telemetry, around] = await Promise.all([
    influx.query(
      `SELECT ${fields} FROM ${MEASUREMENTS.telemetry} WHERE (${only}) AND time >= ${fromMs}ms AND time <= ${toMs}ms ` +
        'GROUP BY device, batch',
    ),
    neighbours ?? neighbourReads(influx, fromMs, toMs, only),
  ]);
  const range = byDevice(telemetry);
  const rowsOf = (rows: ByDevice, device: Device): Record<string, unknown>[] => rows.get(device.id) ?? [];
  // the quarter snapshots of the range, read only for the devices with a down-sampled month in it
  const thinned = devices.filter((d) =>
    rowsOf(around.downsampled, d).some(
      (r) => (r['time'] as number) < toMs && (r['to_ms'] as number) > fromMs,
    ),
  );
  const quarters =
    thinned.length === 0
      ? new Map()
      : byDevice(
          await influx.query(
            `SELECT * FROM ${MEASUREMENTS.telemetryQuarter} WHERE (${thinned
              .map((d) => `device = ${quoteString(d.id)}`)
              .join(' OR ')}) AND time >= ${fromMs}ms AND time < ${toMs}ms GROUP BY device`,
          ),
        );
  return devices.map((device) => {
    // a removed meter's readings end with its removal (ingest refuses later ones; any stored before are not read)
    const removed = removedAtMs(device);
    // readings not stored yet (an import's dry run) come first: on the same time they stand for the stored one
    const added = (overlay?.get(device.id) ?? []).filter(
      (r) =>
        (r['time'] as number) >= fromMs - NEIGHBOUR_READING_MS &&
        (r['time'] as number) <= toMs + NEIGHBOUR_READING_MS,
    );
    const readings = [
      ...added,
      ...rowsOf(around.previous, device),
      ...rowsOf(range, device),
      ...rowsOf(around.following, device),
    ].filter((r) => (r['time'] as number) <= removed);
    return {
      device,
      readings,
      events: rowsOf(around.meterEvents, device),
      downsampled: rowsOf(around.downsampled, device),
      quarters: rowsOf(quarters, device),
    };
  });
}

/**
 * A down-sampled month's first and last reading of each register metric (docs/retention.md), as reading rows: with
 * the readings kept around the month they give every delta that crosses its start or end exactly as the raw readings
 * did.
 */
function anchorRows(month: Record<string, unknown>): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (const metric of CUMULATIVE_METRICS)
    for (const end of ['first', 'last'])
      if (typeof month[`${end}_${metric}`] === 'number')
        rows.push({ time: month[`${end}_time_${metric}`], [metric]: month[`${end}_${metric}`] });
  return rows;
}

/** A quarter snapshot's booked quarter of `metric`, if it has one. */
function snapshotQuarter(row: Record<string, unknown>, metric: MetricName): WindowEnergy | undefined {
  const estimatedEnergy = row[`${metric}_estimated_energy`];
  if (typeof estimatedEnergy !== 'number') return undefined;
  const energy = row[`${metric}_energy`];
  return {
    startMs: row['time'] as number,
    energy: typeof energy === 'number' ? energy : null,
    estimatedEnergy,
    estimated: row[`${metric}_estimated`] === true,
    unknown: typeof row[`${metric}_unknown`] === 'number' ? (row[`${metric}_unknown`] as number) : 0,
  };
}

/**
 * Books a meter's rows (readMeterRows) into quarters with the register rules (libs/domain), and lists the times and
 * batches of its readings in [fromMs, toMs]. No I/O: a report's verification books a bundle's rows with it.
 */
export function bookQuarters(
  { device, readings: stored, events: eventRows, downsampled, quarters: snapshots }: MeterRows,
  fromMs: number,
  toMs: number,
): DeviceQuarters {
  // a down-sampled month's quarters are its snapshots; its raw readings (any a crash left undeleted) are not booked,
  // its first and last stand for them around it
  const thinned = (t: number): boolean =>
    downsampled.some((m) => t >= (m['time'] as number) && t < (m['to_ms'] as number));
  const rows = [...stored.filter((r) => !thinned(r['time'] as number)), ...downsampled.flatMap(anchorRows)];
  const quarters = new Map<MetricName, WindowEnergy[]>();
  for (const metric of CUMULATIVE_METRICS) {
    const readings = rows
      .filter((r) => typeof r[metric] === 'number')
      .map((r) => ({ tsMs: r['time'] as number, value: r[metric] as number }));
    if (readings.length === 0) continue;
    const events: RegisterEvent[] = eventRows.map((r) => ({
      tsMs: r['time'] as number,
      type: r['type'] as RegisterEvent['type'],
      ...(typeof r[`final_${metric}`] === 'number' ? { final: r[`final_${metric}`] as number } : {}),
      ...(typeof r[`start_${metric}`] === 'number' ? { start: r[`start_${metric}`] as number } : {}),
    }));
    const deltas = registerDeltas({
      readings,
      events,
      meter: {
        intervalMs: readingIntervalMs(device),
        ...(device.registerModulusKwh !== undefined ? { modulus: device.registerModulusKwh } : {}),
        // the nameplate bounds the electricity a meter can pass, not a heat pump's heat (COP × electricity)
        ...(device.ratedPowerKw !== undefined && ELECTRIC_METRICS.has(metric)
          ? { ratedPowerKw: device.ratedPowerKw }
          : {}),
        ...(device.ctRatio !== undefined && METRICS[metric].unit === 'kWh'
          ? { ctRatio: device.ctRatio }
          : {}),
      },
    });
    quarters.set(metric, bookIntoWindows({ deltas, windowMs: QUARTER_MS }));
  }
  for (const metric of CUMULATIVE_METRICS) {
    const kept = snapshots.flatMap((row) => snapshotQuarter(row, metric) ?? []);
    const booked = (quarters.get(metric) ?? []).filter((q) => !thinned(q.startMs));
    if (kept.length + booked.length > 0)
      quarters.set(
        metric,
        [...booked, ...kept].sort((a, b) => a.startMs - b.startMs),
      );
  }
  const readingsByQuarter = new Map<number, number>();
  const batchesByQuarter = new Map<number, Set<string>>();
  const received = (quarter: number, readings: number, batches: readonly string[]): void => {
    readingsByQuarter.set(quarter, (readingsByQuarter.get(quarter) ?? 0) + readings);
    if (batches.length > 0)
      batchesByQuarter.set(quarter, new Set([...(batchesByQuarter.get(quarter) ?? []), ...batches]));
  };
  for (const r of stored) {
    const t = r['time'] as number;
    if (t < fromMs || t >= toMs || thinned(t)) continue;
    received(Math.floor(t / QUARTER_MS) * QUARTER_MS, 1, typeof r['batch'] === 'string' ? [r['batch']] : []);
  }
  for (const q of snapshots)
    received(
      q['time'] as number,
      typeof q['readings'] === 'number' ? q['readings'] : 0,
      typeof q['batches'] === 'string' && q['batches'] !== '' ? q['batches'].split(',') : [],
    );
  return { device, quarters, readingsByQuarter, batchesByQuarter };
}

/**
 * Reads the registers and meter events of `devices` around [fromMs, toMs] (readMeterRows, with its `neighbours` and
 * `overlay`) and books their energy into quarters (bookQuarters).
 */
export async function readQuarters(
  influx: InfluxClient,
  devices: readonly Device[],
  fromMs: number,
  toMs: number,
  neighbours?: NeighbourReads,
  overlay?: ReadingOverlay,
): Promise<DeviceQuarters[]> {
  const rows = await readMeterRows(influx, devices, fromMs, toMs, neighbours, overlay);
  return rows.map((r) => bookQuarters(r, fromMs, toMs));
}

/** A device's energies and readings per window of `period` in [fromMs, toMs) (fromMs a window start). */
export function periodEnergy(
  { device, quarters, readingsByQuarter, batchesByQuarter }: DeviceQuarters,
  period: FixedPeriod,
  fromMs: number,
  toMs: number,
  utcOffsetMs: number,
): DeviceEnergy {
  const windows = new Map<MetricName, Map<number, WindowSum>>();
  for (const [metric, booked] of quarters) {
    const sums = new Map<number, WindowSum>();
    for (const q of booked) {
      if (q.startMs < fromMs || q.startMs >= toMs) continue;
      const start = periodWindow(period, q.startMs, utcOffsetMs).startMs;
      let x = sums.get(start);
      if (!x) sums.set(start, (x = emptySum()));
      x.energy += q.energy ?? 0;
      x.estimatedEnergy += q.estimatedEnergy;
      x.estimated ||= q.estimated;
      if (q.energy !== null) {
        x.known++;
        x.quarters.push(q);
      }
      x.anomalies += q.unknown;
    }
    windows.set(metric, sums);
  }
  // windows are whole quarters (every reporting zone's offset is a multiple of 15 minutes)
  const readingsByWindow = new Map<number, number>();
  for (const [quarter, n] of readingsByQuarter) {
    if (quarter < fromMs || quarter >= toMs) continue;
    const w = periodWindow(period, quarter, utcOffsetMs).startMs;
    readingsByWindow.set(w, (readingsByWindow.get(w) ?? 0) + n);
  }
  const batchesByWindow = new Map<number, Set<string>>();
  for (const [quarter, batches] of batchesByQuarter) {
    if (quarter < fromMs || quarter >= toMs) continue;
    const w = periodWindow(period, quarter, utcOffsetMs).startMs;
    batchesByWindow.set(w, new Set([...(batchesByWindow.get(w) ?? []), ...batches]));
  }
  return { device, windows, readingsByWindow, batchesByWindow };
}
