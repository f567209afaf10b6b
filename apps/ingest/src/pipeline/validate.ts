import {
  MEASUREMENTS,
  METRICS,
  isMetricName,
  parseDeviceTopic,
  type DeviceTopic,
} from '@peakwatch/contracts';
import { removedAtMs, type RegisteredDevice, type Registry } from '@peakwatch/registry';
import { floatField, intField, line, stringField } from '@peakwatch/influx';
import type { RejectReason } from './reject-reason';

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
  /** The place in its batch of a refused reading (0 when sent alone). */
  readingIndex?: number;
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

type Tags = Record<'site' | 'device' | 'kind' | 'role' | 'district', string>;

/** A topic of a registered device under its own site: what validation needs of it, worked out once. */
interface KnownTopic {
  parsed: DeviceTopic;
  tags: Tags;
  /** `telemetry,device=…,district=…,kind=…,role=…,site=…`: the tags never change. */
  telemetryPrefix: string;
  /** The registry's `removedAt` of the device (ms; infinite while in service). */
  removedAtMs: number;
}

/**
 * Known topics per registry. Only topics that pass are kept, so the map is bounded by the registry (three channels
 * per device), and stays true: the registry only ever adds devices.
 */
const knownTopics = new WeakMap<Registry, Map<string, KnownTopic>>();

function knownTopic(topic: string, registry: Registry, result: ValidationResult): KnownTopic | undefined {
  let known = knownTopics.get(registry);
  if (!known) knownTopics.set(registry, (known = new Map<string, KnownTopic>()));
  const cached = known.get(topic);
  if (cached) return cached;
  const parsed = parseDeviceTopic(topic);
  if (!parsed) return reject(result, 'bad_topic', topic, undefined);
  const registered = registry.device(parsed.deviceId);
  if (!registered) return reject(result, 'unknown_device', parsed.deviceId, parsed);
  if (registered.site.id !== parsed.siteId)
    return reject(result, 'site_mismatch', `${parsed.deviceId} belongs to ${registered.site.id}`, parsed);
  const tags = tagsOf(registered);
  // line() with no fields gives "measurement,tags  ts"; keep the measurement and tags part
  const telemetryPrefix = line(MEASUREMENTS.telemetry, tags, {}, 0).split(' ')[0]!;
  const entry = { parsed, tags, telemetryPrefix, removedAtMs: removedAtMs(registered.device) };
  known.set(topic, entry);
  return entry;
}

function reject(
  result: ValidationResult,
  reason: RejectReason,
  detail: string,
  topic: DeviceTopic | undefined,
): undefined {
  result.rejections.push({ reason, detail, topic });
  return undefined;
}

/**
 * Validates one MQTT message against the MQTT contract (docs/contracts.md) and turns what is good into line protocol.
 * Never throws: every problem becomes a {@link Rejection}, and the good readings of a batch are kept.
 */
export function validateMessage(
  { topic, payload, nowMs }: { topic: string; payload: Buffer; nowMs: number },
  registry: Registry,
  limits: ValidationLimits,
): ValidationResult {
  const result: ValidationResult = { lines: [], accepted: 0, rejections: [] };
  const known = knownTopic(topic, registry, result);
  if (!known) return result;
  const { parsed, tags } = known;
  if (payload.length > limits.maxPayloadBytes) {
    reject(result, 'payload_too_large', `${payload.length} bytes > ${limits.maxPayloadBytes}`, parsed);
    return result;
  }
  if (parsed.channel === 'status') {
    const status = payload.toString('utf8');
    if (status !== 'online' && status !== 'offline') {
      reject(result, 'bad_status', status.slice(0, 40), parsed);
      return result;
    }
    result.lines.push(
      line(
        MEASUREMENTS.deviceStatus,
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
    reject(result, 'malformed_json', (error as Error).message, parsed);
    return result;
  }
  const context = { nowMs, limits, removedAtMs: known.removedAtMs };
  if (parsed.channel === 'event') {
    const refused = validateEvent(body, tags, result, context);
    if (refused) reject(result, refused.reason, refused.detail, parsed);
    return result;
  }

  if (!Array.isArray(body)) {
    addReading(result, body, known, context, 0);
    return result;
  }
  if (body.length === 0) reject(result, 'bad_envelope', 'empty batch', parsed);
  else if (body.length > limits.maxBatch)
    reject(result, 'batch_too_large', `${body.length} readings > ${limits.maxBatch}`, parsed);
  else
    for (let index = 0; index < body.length; index++) addReading(result, body[index], known, context, index);
  return result;
}

function tagsOf(registered: RegisteredDevice): Tags {
  return {
    site: registered.site.id,
    device: registered.device.id,
    kind: registered.device.kind,
    role: registered.device.role,
    district: registered.site.district,
  };
}

/** What a reading's time is judged against. */
interface CheckContext {
  nowMs: number;
  limits: ValidationLimits;
  removedAtMs: number;
}

interface Problem {
  reason: RejectReason;
  detail: string;
}

function checkTime(ts: unknown, { nowMs, limits, removedAtMs }: CheckContext): number | Problem {
  const ms = parseTimestamp(ts);
  if (ms === undefined) return { reason: 'bad_timestamp', detail: `ts ${JSON.stringify(ts)?.slice(0, 40)}` };
  if (ms > nowMs + limits.maxFutureMs)
    return { reason: 'timestamp_in_future', detail: new Date(ms).toISOString() };
  if (ms < nowMs - limits.horizonMs)
    return { reason: 'timestamp_too_old', detail: new Date(ms).toISOString() };
  if (ms > removedAtMs)
    return {
      reason: 'device_removed',
      detail: `${new Date(ms).toISOString()} is after its removal at ${new Date(removedAtMs).toISOString()}`,
    };
  return ms;
}

/** Adds the line of one reading to the result, or its rejection (`index`: its place in the batch, 0 when alone). */
function addReading(
  result: ValidationResult,
  reading: unknown,
  known: KnownTopic,
  context: CheckContext,
  index: number,
): void {
  const refused = readingProblem(reading, known, context, result);
  if (refused)
    result.rejections.push({
      reason: refused.reason,
      detail: `reading ${index}: ${refused.detail}`,
      topic: known.parsed,
      readingIndex: index,
    });
}

/** Pushes the line of a good reading (and widens the span); returns why a reading is refused. */
function readingProblem(
  reading: unknown,
  known: KnownTopic,
  context: CheckContext,
  result: ValidationResult,
): Problem | undefined {
  if (!isObject(reading)) return { reason: 'bad_envelope', detail: 'not an object' };
  for (const key in reading) {
    if (key !== 'ts' && key !== 'seq' && key !== 'values')
      return { reason: 'bad_envelope', detail: `unexpected key ${key.slice(0, 40)}` };
  }
  const ms = checkTime(reading['ts'], context);
  if (typeof ms !== 'number') return ms;
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
    if (!isMetricName(metric)) return { reason: 'unknown_metric', detail: metric.slice(0, 64) };
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      return { reason: 'bad_value', detail: `${metric} = ${JSON.stringify(value)?.slice(0, 40)}` };
    }
    fields += `${fields ? ',' : ''}${metric}=${floatField(value)}`;
  }
  if (!fields) return { reason: 'no_values', detail: 'values is empty' };
  if (typeof seq === 'number') fields += `,seq=${intField(seq)}`;
  result.lines.push(`${known.telemetryPrefix} ${fields} ${ms}`);
  result.accepted++;
  extendSpan(result, known.tags, ms);
  return undefined;
}

/** Pushes the line of a good lifecycle event; returns why an event is refused. */
function validateEvent(
  body: unknown,
  tags: Tags,
  result: ValidationResult,
  context: CheckContext,
): Problem | undefined {
  if (!isObject(body)) return problem('bad_event', 'not an object');
  const type = body['type'];
  if (!(EVENT_TYPES as readonly unknown[]).includes(type))
    return problem('bad_event', `type ${JSON.stringify(type)?.slice(0, 40)}`);
  const ms = checkTime(body['ts'], context);
  if (typeof ms !== 'number') return ms;
  const fields: Record<string, string> = {};
  for (const part of ['final', 'start'] as const) {
    const registers = body[part];
    if (registers === undefined) continue;
    if (!isObject(registers)) return problem('bad_event', `${part} is not an object`);
    for (const [metric, value] of Object.entries(registers)) {
      if (!isMetricName(metric) || !METRICS[metric].cumulative)
        return problem('bad_event', `${part}.${metric.slice(0, 64)} is not a register`);
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
        return problem('bad_event', `${part}.${metric} = ${JSON.stringify(value)?.slice(0, 40)}`);
      fields[`${part}_${metric}`] = floatField(value);
    }
  }
  if (type === 'meter_replaced' && !Object.keys(fields).some((k) => k.startsWith('final_'))) {
    return problem('bad_event', 'meter_replaced needs the final registers');
  }
  fields['count'] = intField(1);
  result.lines.push(line(MEASUREMENTS.meterEvent, { ...tags, type: type as string }, fields, ms));
  result.accepted++;
  extendSpan(result, tags, ms);
  return undefined;
}

function problem(reason: RejectReason, detail: string): Problem {
  return { reason, detail };
}
