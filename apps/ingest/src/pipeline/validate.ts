import { MEASUREMENTS, METRICS, parseDeviceTopic, type DeviceTopic } from '@peakwatch/contracts';
import type { RegisteredDevice, Registry } from '@peakwatch/registry';
import { floatField, intField, line, stringField } from '@peakwatch/influx';
import type { RejectReason } from './reject-reason';

/** Measurements ingest writes besides telemetry. */
export const METER_EVENT_MEASUREMENT = 'meter_event';
export const DEVICE_STATUS_MEASUREMENT = 'device_status';

export interface ValidationLimits {
  maxPayloadBytes: number;
  maxBatch: number;
  maxFutureMs: number;
  horizonMs: number;
}

export interface Rejection {
  reason: RejectReason;
  /** What was wrong, for the log and the record. */
  detail: string;
  topic: DeviceTopic | undefined;
}

export interface ValidationResult {
  /** Line protocol of the accepted readings, events or status. */
  lines: string[];
  /** Readings accepted (a batch counts each reading). */
  accepted: number;
  rejections: Rejection[];
  /** Time span of the accepted readings and events (device time, ms), when there are any. */
  span?: { siteId: string; deviceId: string; earliestMs: number; latestMs: number };
}

function extendSpan(result: ValidationResult, tags: Tags, ms: number): void {
  if (!result.span) result.span = { siteId: tags.site, deviceId: tags.device, earliestMs: ms, latestMs: ms };
  else if (ms < result.span.earliestMs) result.span.earliestMs = ms;
  else if (ms > result.span.latestMs) result.span.latestMs = ms;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const EVENT_TYPES = ['meter_replaced', 'register_reset'] as const;

/** Parses `ts`: epoch milliseconds (a non-negative integer) or RFC 3339 with an offset. */
export function parseTimestamp(ts: unknown): number | undefined {
  if (typeof ts === 'number') return Number.isSafeInteger(ts) && ts >= 0 ? ts : undefined;
  if (typeof ts === 'string' && RFC3339.test(ts)) {
    const ms = Date.parse(ts);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Validates one MQTT message against the contract of DESIGN.md and turns what is good into line protocol.
 * Never throws: every problem becomes a {@link Rejection}, and the good readings of a batch are kept.
 */
export function validateMessage(
  { topic, payload, nowMs }: { topic: string; payload: Buffer; nowMs: number },
  registry: Registry,
  limits: ValidationLimits,
): ValidationResult {
  const result: ValidationResult = { lines: [], accepted: 0, rejections: [] };
  const parsedTopic = parseDeviceTopic(topic);
  const reject = (reason: RejectReason, detail: string): ValidationResult => {
    result.rejections.push({ reason, detail, topic: parsedTopic });
    return result;
  };
  if (!parsedTopic) return reject('bad_topic', topic);
  const registered = registry.device(parsedTopic.deviceId);
  if (!registered) return reject('unknown_device', parsedTopic.deviceId);
  if (registered.site.id !== parsedTopic.siteId) {
    return reject('site_mismatch', `${parsedTopic.deviceId} belongs to ${registered.site.id}`);
  }
  if (payload.length > limits.maxPayloadBytes) {
    return reject('payload_too_large', `${payload.length} bytes > ${limits.maxPayloadBytes}`);
  }
  const tags = tagsOf(registered);
  if (parsedTopic.channel === 'status') {
    const status = payload.toString('utf8');
    if (status !== 'online' && status !== 'offline') return reject('bad_status', status.slice(0, 40));
    result.lines.push(
      line(
        DEVICE_STATUS_MEASUREMENT,
        { site: tags.site, device: tags.device },
        { status: stringField(status) },
        nowMs,
      ),
    );
    return result;
  }
  let body: unknown;
  try {
    body = JSON.parse(payload.toString('utf8'));
  } catch (error) {
    return reject('malformed_json', (error as Error).message);
  }
  if (parsedTopic.channel === 'event') return validateEvent(body, tags, result, reject, { nowMs, limits });

  const readings = Array.isArray(body) ? body : [body];
  if (readings.length === 0) return reject('bad_envelope', 'empty batch');
  if (readings.length > limits.maxBatch)
    return reject('batch_too_large', `${readings.length} readings > ${limits.maxBatch}`);
  readings.forEach((reading, index) => {
    const problem = readingLine(reading, tags, { nowMs, limits });
    if ('line' in problem) {
      result.lines.push(problem.line);
      result.accepted++;
      extendSpan(result, tags, problem.ms);
    } else {
      result.rejections.push({
        ...problem,
        detail: `reading ${index}: ${problem.detail}`,
        topic: parsedTopic,
      });
    }
  });
  return result;
}

type Tags = Record<'site' | 'device' | 'kind' | 'role' | 'district', string>;

/** `telemetry,device=…,district=…,kind=…,role=…,site=…` per device: the tags never change, so they are built once. */
const telemetryPrefixes = new WeakMap<Tags, string>();
const devicesTags = new WeakMap<object, Tags>();

function tagsOf(registered: RegisteredDevice): Tags {
  let tags = devicesTags.get(registered.device);
  if (!tags) {
    tags = {
      site: registered.site.id,
      device: registered.device.id,
      kind: registered.device.kind,
      role: registered.device.role,
      district: registered.site.district,
    };
    devicesTags.set(registered.device, tags);
  }
  return tags;
}

function telemetryPrefix(tags: Tags): string {
  let prefix = telemetryPrefixes.get(tags);
  if (prefix === undefined) {
    // line() with no fields gives "measurement,tags  ts"; keep the measurement and tags part
    prefix = line(MEASUREMENTS.telemetry, tags, {}, 0).split(' ')[0]!;
    telemetryPrefixes.set(tags, prefix);
  }
  return prefix;
}

function checkTime(
  ts: unknown,
  { nowMs, limits }: { nowMs: number; limits: ValidationLimits },
): { ms: number } | { reason: RejectReason; detail: string } {
  const ms = parseTimestamp(ts);
  if (ms === undefined) return { reason: 'bad_timestamp', detail: `ts ${JSON.stringify(ts)?.slice(0, 40)}` };
  if (ms > nowMs + limits.maxFutureMs)
    return { reason: 'timestamp_in_future', detail: new Date(ms).toISOString() };
  if (ms < nowMs - limits.horizonMs)
    return { reason: 'timestamp_too_old', detail: new Date(ms).toISOString() };
  return { ms };
}

/** The line of one reading and its time, or why it is refused. */
function readingLine(
  reading: unknown,
  tags: Tags,
  context: { nowMs: number; limits: ValidationLimits },
): { line: string; ms: number } | { reason: RejectReason; detail: string } {
  if (!isObject(reading)) return { reason: 'bad_envelope', detail: 'not an object' };
  for (const key of Object.keys(reading)) {
    if (key !== 'ts' && key !== 'seq' && key !== 'values')
      return { reason: 'bad_envelope', detail: `unexpected key ${key.slice(0, 40)}` };
  }
  const time = checkTime(reading['ts'], context);
  if ('reason' in time) return time;
  const seq = reading['seq'];
  if (seq !== undefined && !(typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 0)) {
    return { reason: 'bad_seq', detail: `seq ${JSON.stringify(seq)?.slice(0, 40)}` };
  }
  const values = reading['values'];
  if (!isObject(values)) return { reason: 'bad_envelope', detail: 'values is not an object' };
  // Metric names are known (no escaping needed) and values finite numbers.
  let fields = '';
  for (const metric in values) {
    const value = values[metric];
    if (!(metric in METRICS)) return { reason: 'unknown_metric', detail: metric.slice(0, 64) };
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      return { reason: 'bad_value', detail: `${metric} = ${JSON.stringify(value)?.slice(0, 40)}` };
    }
    fields += `${fields ? ',' : ''}${metric}=${floatField(value)}`;
  }
  if (!fields) return { reason: 'no_values', detail: 'values is empty' };
  if (typeof seq === 'number') fields += `,seq=${intField(seq)}`;
  return { line: `${telemetryPrefix(tags)} ${fields} ${time.ms}`, ms: time.ms };
}

function validateEvent(
  body: unknown,
  tags: Tags,
  result: ValidationResult,
  reject: (reason: RejectReason, detail: string) => ValidationResult,
  context: { nowMs: number; limits: ValidationLimits },
): ValidationResult {
  if (!isObject(body)) return reject('bad_event', 'not an object');
  const type = body['type'];
  if (!(EVENT_TYPES as readonly unknown[]).includes(type))
    return reject('bad_event', `type ${JSON.stringify(type)?.slice(0, 40)}`);
  const time = checkTime(body['ts'], context);
  if ('reason' in time) return reject(time.reason, time.detail);
  const fields: Record<string, string> = {};
  for (const part of ['final', 'start'] as const) {
    const registers = body[part];
    if (registers === undefined) continue;
    if (!isObject(registers)) return reject('bad_event', `${part} is not an object`);
    for (const [metric, value] of Object.entries(registers)) {
      if (!(metric in METRICS) || !METRICS[metric as keyof typeof METRICS].cumulative)
        return reject('bad_event', `${part}.${metric.slice(0, 64)} is not a register`);
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
        return reject('bad_event', `${part}.${metric} = ${JSON.stringify(value)?.slice(0, 40)}`);
      fields[`${part}_${metric}`] = floatField(value);
    }
  }
  if (type === 'meter_replaced' && !Object.keys(fields).some((k) => k.startsWith('final_'))) {
    return reject('bad_event', 'meter_replaced needs the final registers');
  }
  fields['count'] = intField(1);
  result.lines.push(line(METER_EVENT_MEASUREMENT, { ...tags, type: type as string }, fields, time.ms));
  result.accepted++;
  extendSpan(result, tags, time.ms);
  return result;
}
