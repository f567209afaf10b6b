import { METRICS, PeakWatchError, isMetricName, type MetricName } from '@peakwatch/contracts';
import { MAX_BRIDGED_GAP_MS } from '@peakwatch/domain';
import { utcOffsetMs } from '@peakwatch/metering';
import { removedAtMs, type Device, type DeviceKind, type Registry } from '@peakwatch/registry';

/**
 * The two file layouts an import takes (docs/imports.md): register readings, one per row, as devices send them; and
 * interval energy, a meter's consumption over a period, turned into register readings of the meter.
 */
export const READING_COLUMNS = ['site', 'device', 'ts', 'metric', 'value'] as const;
export const INTERVAL_COLUMNS = ['site', 'device', 'start', 'end', 'value', 'unit'] as const;
export type ImportLayout = 'readings' | 'intervals';

/** Why a row is refused (docs/imports.md, "Refused rows"); each names the field at fault. */
export type RowReason =
  | 'missing_value'
  | 'unknown_site'
  | 'unknown_device'
  | 'site_mismatch'
  | 'site_not_allowed'
  | 'bad_timestamp'
  | 'mixed_time_zones'
  | 'timestamp_in_future'
  | 'device_removed'
  | 'unknown_metric'
  | 'bad_value'
  | 'unit_mismatch'
  | 'bad_period'
  | 'overlapping_period'
  | 'duplicate_row'
  | 'conflict_with_live'
  | 'conflict_with_import'
  | 'month_downsampled';

export interface RowProblem {
  row: number;
  field: string;
  reason: RowReason;
  detail: string;
}

/** A file the import cannot read at all (a bad header, a truncated XLSX): no row of it is taken. */
export class ImportFileError extends PeakWatchError {
  readonly code = 'invalid_import_file';
  constructor(message: string, field: string) {
    super(message, { field });
  }
}

/** One accepted value: a register (or other metric) reading of a device at a time. */
export interface ImportedValue {
  row: number;
  siteId: string;
  deviceId: string;
  metric: MetricName;
  tsMs: number;
  value: number;
}

/** An accepted interval: a device's energy over [startMs, endMs), in its register's units (the CT ratio taken out). */
export interface ImportedInterval {
  row: number;
  siteId: string;
  deviceId: string;
  metric: MetricName;
  startMs: number;
  endMs: number;
  energy: number;
}

/** Which layout a header is, or the error naming what is wrong with it. */
export function layoutOf(header: readonly string[]): ImportLayout {
  const names = header.map((h) => h.trim().toLowerCase());
  const twice = names.filter((n, i) => names.indexOf(n) !== i);
  if (twice.length > 0)
    throw new ImportFileError(
      `row 1: the header names ${twice.map((t) => t.slice(0, 40)).join(', ')} twice`,
      'header',
    );
  const is = (columns: readonly string[], optional: readonly string[] = []): boolean =>
    columns.every((c) => names.includes(c)) &&
    names.every((n) => columns.includes(n) || optional.includes(n));
  if (is(READING_COLUMNS, ['unit'])) return 'readings';
  if (is(INTERVAL_COLUMNS)) return 'intervals';
  const expected = names.includes('start') || names.includes('end') ? INTERVAL_COLUMNS : READING_COLUMNS;
  const missing = expected.filter((c) => !names.includes(c));
  const unknown = names.filter((n) => !(expected as readonly string[]).includes(n) && n !== 'unit');
  throw new ImportFileError(
    `row 1: the header must be ${READING_COLUMNS.join(',')}[,unit] (register readings) or ` +
      `${INTERVAL_COLUMNS.join(',')} (interval energy)` +
      (missing.length ? `; missing: ${missing.join(', ')}` : '') +
      (unknown.length ? `; unknown: ${unknown.map((u) => u.slice(0, 40)).join(', ')}` : ''),
    'header',
  );
}

/**
 * The register an interval row's energy is booked to, by the device's kind and the unit stated: electricity in kWh
 * (a PV inverter's register counts what it exports), heat in `kWh_heat` (a heat meter's `kWh` is heat), gas in m³.
 */
const INTERVAL_REGISTERS: Record<DeviceKind, Readonly<Record<string, MetricName>>> = {
  electricity_meter: { kwh: 'energy_import_kwh' },
  pv_inverter: { kwh: 'energy_export_kwh' },
  heat_pump: { kwh: 'energy_import_kwh', kwh_heat: 'heat_kwh' },
  heat_meter: { kwh: 'heat_kwh', kwh_heat: 'heat_kwh' },
  gas_meter: { m3: 'gas_m3', 'm³': 'gas_m3' },
  weather_station: {},
};

/** How a stated unit is written for a metric (`m³` and `m3` alike). */
const sameUnit = (stated: string, metric: MetricName): boolean =>
  stated.trim().replace('³', '3').toLowerCase() === METRICS[metric].unit.toLowerCase();

const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?\s*(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * The zone stated for times without an offset (and for spreadsheet dates): a fixed UTC offset (`+08:00`, `Z`), or a
 * zone name (`Asia/Shanghai`, `Europe/London`) whose offset is that of each time (daylight saving included).
 */
export type Zone = { fixed: string } | { name: string };

/** A `--tz` setting as a zone, or undefined when it is neither an offset nor a zone name this runtime knows. */
export function parseZone(zone: string): Zone | undefined {
  const fixed = /^(Z|[+-]\d{2}:?\d{2})$/.exec(zone.trim());
  if (fixed) return { fixed: normaliseOffset(fixed[1]!) };
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone.trim() });
    return { name: zone.trim() };
  } catch {
    return undefined;
  }
}

function normaliseOffset(offset: string): string {
  if (offset === 'Z') return '+00:00';
  return offset.includes(':') ? offset : `${offset.slice(0, 3)}:${offset.slice(3)}`;
}

const offsetMs = (offset: string): number =>
  (offset.startsWith('-') ? -1 : 1) * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6))) * 60_000;

const offsetText = (ms: number): string => {
  const minutes = Math.abs(ms) / 60_000;
  const hh = String(Math.floor(minutes / 60)).padStart(2, '0');
  const mm = String(minutes % 60).padStart(2, '0');
  return `${ms < 0 ? '-' : '+'}${hh}:${mm}`;
};

/** The instant of a wall-clock time (its fields read as UTC) in a zone: a named zone's offset at that time. */
function instantIn(zone: Zone, wallMs: number): number {
  if ('fixed' in zone) return wallMs - offsetMs(zone.fixed);
  const guess = wallMs - utcOffsetMs(zone.name, wallMs);
  return wallMs - utcOffsetMs(zone.name, guess);
}

/** The offset a zone has at an instant, as `±HH:MM`. */
const zoneOffsetAt = (zone: Zone, ms: number): string =>
  'fixed' in zone ? zone.fixed : offsetText(utcOffsetMs(zone.name, ms));

/** What the rows of one file are judged against, and what they have shown so far (their time zone). */
export interface RowContext {
  registry: Registry;
  nowMs: number;
  /** How far ahead of now a reading may be (INGEST_MAX_FUTURE_MS); there is no limit into the past. */
  maxFutureMs: number;
  /** The zone stated on the command line, for times written without an offset and spreadsheet dates. */
  zone?: Zone;
  /** Sites the caller may import into (none: every site). */
  allowedSites?: ReadonlySet<string>;
  /** The offset of the file's first timestamp that had one: every other must have the same. */
  fileOffset?: string;
}

/** A cell as read from the file: text, a number, or (XLSX) a date. */
export type Cell = string | number | Date | undefined;

const text = (cell: Cell): string =>
  cell === undefined ? '' : cell instanceof Date ? cell.toISOString() : String(cell).trim();

/**
 * A time cell: ISO 8601 with its offset (or without, in the zone stated on the command line), or an XLSX date, which
 * is a wall-clock time in that zone. A time's offset must be the stated zone's at that time, or, with no zone stated,
 * the file's first offset (`mixed_time_zones`).
 */
function timeOf(cell: Cell, field: string, row: number, context: RowContext): number | RowProblem {
  const bad = (reason: RowReason, detail: string): RowProblem => ({ row, field, reason, detail });
  if (cell instanceof Date) {
    if (!context.zone)
      return bad('bad_timestamp', 'a spreadsheet date has no UTC offset: state its zone with --tz');
    return instantIn(context.zone, cell.getTime());
  }
  const raw = text(cell);
  if (raw === '') return bad('missing_value', `${field} is empty`);
  const m = ISO_TIME.exec(raw);
  if (!m) return bad('bad_timestamp', `${JSON.stringify(raw.slice(0, 40))} is not an ISO 8601 time`);
  const [y, mo, d, h, mi, s, frac] = m.slice(1, 8);
  const wallMs =
    Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0)) +
    Math.round(Number(frac ?? 0) * 1000);
  // Date.UTC rolls 31 February over into March: refuse a date that is not on the calendar
  const back = new Date(wallMs);
  if (
    Number.isNaN(wallMs) ||
    back.getUTCMonth() !== Number(mo) - 1 ||
    back.getUTCDate() !== Number(d) ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(s ?? 0) > 59
  )
    return bad('bad_timestamp', `${raw.slice(0, 40)} is not a time on the calendar`);
  if (!m[8]) {
    if (!context.zone)
      return bad(
        'bad_timestamp',
        `${JSON.stringify(raw.slice(0, 40))} has no UTC offset: add one or state --tz`,
      );
    return instantIn(context.zone, wallMs);
  }
  const offset = normaliseOffset(m[8]);
  const ms = wallMs - offsetMs(offset);
  const expected = context.zone ? zoneOffsetAt(context.zone, ms) : (context.fileOffset ??= offset);
  if (offset !== expected)
    return bad(
      'mixed_time_zones',
      `${raw.slice(0, 40)} is at ${offset}, ${context.zone ? 'the zone stated is at' : "the file's first time at"} ${expected}`,
    );
  return ms;
}

function numberOf(cell: Cell, row: number): number | RowProblem {
  if (typeof cell === 'number')
    return Number.isFinite(cell) ? cell : { row, field: 'value', reason: 'bad_value', detail: String(cell) };
  const raw = text(cell);
  if (raw === '') return { row, field: 'value', reason: 'missing_value', detail: 'value is empty' };
  const n = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw) ? Number(raw) : Number.NaN;
  return Number.isFinite(n)
    ? n
    : {
        row,
        field: 'value',
        reason: 'bad_value',
        detail: `${JSON.stringify(raw.slice(0, 40))} is not a number`,
      };
}

const isProblem = (x: unknown): x is RowProblem => typeof x === 'object' && x !== null && 'reason' in x;

/** The site and device of a row, checked against the registry, the caller's sites and the device's removal. */
function deviceOf(
  cells: Record<string, Cell>,
  row: number,
  context: RowContext,
): { siteId: string; deviceId: string; device: Device; removedAtMs: number } | RowProblem {
  const siteId = text(cells['site']);
  const deviceId = text(cells['device']);
  if (siteId === '') return { row, field: 'site', reason: 'missing_value', detail: 'site is empty' };
  if (deviceId === '') return { row, field: 'device', reason: 'missing_value', detail: 'device is empty' };
  // outside the caller's scope first: whether such a site exists is not the caller's to learn
  if (context.allowedSites && !context.allowedSites.has(siteId))
    return {
      row,
      field: 'site',
      reason: 'site_not_allowed',
      detail: `${siteId.slice(0, 64)} is not a site of yours`,
    };
  if (!context.registry.site(siteId))
    return {
      row,
      field: 'site',
      reason: 'unknown_site',
      detail: `${siteId.slice(0, 64)} is not in the registry`,
    };
  const registered = context.registry.device(deviceId);
  if (!registered)
    return {
      row,
      field: 'device',
      reason: 'unknown_device',
      detail: `${deviceId.slice(0, 64)} is not in the registry`,
    };
  if (registered.site.id !== siteId)
    // a device of a site outside the caller's scope is not the caller's to learn of
    return context.allowedSites && !context.allowedSites.has(registered.site.id)
      ? {
          row,
          field: 'device',
          reason: 'unknown_device',
          detail: `${deviceId.slice(0, 64)} is not a device of ${siteId}`,
        }
      : {
          row,
          field: 'site',
          reason: 'site_mismatch',
          detail: `${deviceId} belongs to ${registered.site.id}, not ${siteId.slice(0, 64)}`,
        };
  return { siteId, deviceId, device: registered.device, removedAtMs: removedAtMs(registered.device) };
}

function checkedTime(
  ms: number,
  field: string,
  row: number,
  removedAt: number,
  context: RowContext,
): RowProblem | undefined {
  if (ms > context.nowMs + context.maxFutureMs)
    return { row, field, reason: 'timestamp_in_future', detail: new Date(ms).toISOString() };
  if (ms > removedAt)
    return {
      row,
      field,
      reason: 'device_removed',
      detail: `${new Date(ms).toISOString()} is after its removal at ${new Date(removedAt).toISOString()}`,
    };
  return undefined;
}

/** A register-readings row: the same rules as a live reading's (docs/contracts.md), without the 35-day horizon. */
export function readingRow(
  cells: Record<string, Cell>,
  row: number,
  context: RowContext,
): ImportedValue | RowProblem {
  const device = deviceOf(cells, row, context);
  if (isProblem(device)) return device;
  const ts = timeOf(cells['ts'], 'ts', row, context);
  if (isProblem(ts)) return ts;
  const late = checkedTime(ts, 'ts', row, device.removedAtMs, context);
  if (late) return late;
  const metric = text(cells['metric']);
  if (!isMetricName(metric))
    return {
      row,
      field: 'metric',
      reason: metric === '' ? 'missing_value' : 'unknown_metric',
      detail: `${JSON.stringify(metric.slice(0, 64))} is not a metric of the contract`,
    };
  const unit = text(cells['unit']);
  if (unit !== '' && !sameUnit(unit, metric))
    return {
      row,
      field: 'unit',
      reason: 'unit_mismatch',
      detail: `${metric} is in ${METRICS[metric].unit}, not ${unit.slice(0, 20)}`,
    };
  const value = numberOf(cells['value'], row);
  if (isProblem(value)) return value;
  return { row, siteId: device.siteId, deviceId: device.deviceId, metric, tsMs: ts, value };
}

/** An interval-energy row: a period [start, end) and its energy in a stated unit (kWh, kWh_heat or m³). */
export function intervalRow(
  cells: Record<string, Cell>,
  row: number,
  context: RowContext,
): ImportedInterval | RowProblem {
  const device = deviceOf(cells, row, context);
  if (isProblem(device)) return device;
  const start = timeOf(cells['start'], 'start', row, context);
  if (isProblem(start)) return start;
  const end = timeOf(cells['end'], 'end', row, context);
  if (isProblem(end)) return end;
  if (end <= start) return { row, field: 'end', reason: 'bad_period', detail: 'end is not after start' };
  const late = checkedTime(end, 'end', row, device.removedAtMs, context);
  if (late) return late;
  const unit = text(cells['unit']);
  if (end - start > MAX_BRIDGED_GAP_MS)
    return {
      row,
      field: 'end',
      reason: 'bad_period',
      detail: 'a period longer than 35 days is booked to no window (docs/domain.md, "Gaps"): split it',
    };
  const registers = INTERVAL_REGISTERS[device.device.kind];
  const metric = registers[unit.toLowerCase()];
  if (!metric)
    return {
      row,
      field: 'unit',
      reason: unit === '' ? 'missing_value' : 'unit_mismatch',
      detail: `${JSON.stringify(unit.slice(0, 20))}: a ${device.device.kind} takes ${Object.keys(registers).join(' or ') || 'no energy'}`,
    };
  const energy = numberOf(cells['value'], row);
  if (isProblem(energy)) return energy;
  if (energy < 0) return { row, field: 'value', reason: 'bad_value', detail: `${energy} is negative` };
  // a bill states primary energy; a register behind a CT counts it divided by the ratio, which the meter read applies
  const ct = METRICS[metric].unit === 'kWh' ? (device.device.ctRatio ?? 1) : 1;
  return {
    row,
    siteId: device.siteId,
    deviceId: device.deviceId,
    metric,
    startMs: start,
    endMs: end,
    energy: energy / ct,
  };
}

export { isProblem };
