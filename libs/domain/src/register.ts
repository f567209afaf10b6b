import { MS_PER_HOUR } from './energy';

/** A raw cumulative register reading as the meter showed it (secondary side when a CT ratio applies). */
export interface RegisterReading {
  tsMs: number;
  value: number;
}

/** A declared lifecycle event (`meter_replaced`, `register_reset`; docs/contracts.md) with the old final and new start. */
export interface RegisterEvent {
  tsMs: number;
  type: 'meter_replaced' | 'register_reset';
  /** The old register's last value; unknown when the event did not carry it. */
  final?: number;
  /** The new register's first value (0 when not given). */
  start?: number;
}

export interface RegisterMeter {
  /** The register wraps to 0 here (e.g. 1,000,000 kWh for a DL/T 645 XXXXXX.XX register). */
  modulus?: number;
  /** Nameplate maximum power (kW): a delta implying more is not physically possible. */
  ratedPowerKw?: number;
  /** Current-transformer ratio (倍率): primary energy = register delta × ratio. */
  ctRatio?: number;
  /** The meter's reading interval (ms); a longer step is a gap. */
  intervalMs: number;
}

/**
 * How a delta between two readings was read (docs/domain.md, "Registers"):
 * - `normal`: the register rose;
 * - `wrap`: it fell because it wrapped at its modulus: Δ = modulus − prev + next, accepted only if the implied power
 *   is possible for the meter;
 * - `replacement`: a declared meter replacement or reset lies between them: Δ = (final − prev) + (next − start);
 * - `unexplained_drop`: it fell and nothing explains it: no value, flagged (never assumed to be a reset);
 * - `implausible`: it implies more power than the meter's rating: no value, flagged.
 */
export type DeltaKind = 'normal' | 'wrap' | 'replacement' | 'unexplained_drop' | 'implausible';

export interface RegisterDelta {
  fromMs: number;
  toMs: number;
  /** Primary-side energy (kWh, or m³ for volume registers); null when it cannot be known. */
  energy: number | null;
  kind: DeltaKind;
  /** True when the readings are further apart than the meter's interval (a gap): spread over the gap, estimated. */
  estimated: boolean;
}

/** A gap is a step longer than this many reading intervals. */
export const GAP_FACTOR = 1.5;
/**
 * The longest silence that is bridged (35 days, the default ingest horizon): the energy of a delta spanning more is
 * attributed to no window, and the windows of the silence have no value from that meter (docs/domain.md, "Gaps").
 */
export const MAX_BRIDGED_GAP_MS = 35 * 86_400_000;
/** Tolerance on the rated power before a delta counts as impossible (10%). */
export const RATED_POWER_TOLERANCE = 1.1;

/**
 * Energy between consecutive readings of a cumulative register. Readings at the same timestamp count once (MQTT
 * duplicates). Never interpolates: the energy over a gap is the whole delta, marked estimated.
 */
export function registerDeltas({
  readings,
  events = [],
  meter,
}: {
  readings: readonly RegisterReading[];
  events?: readonly RegisterEvent[];
  meter: RegisterMeter;
}): RegisterDelta[] {
  const sorted = [...readings]
    .sort((a, b) => a.tsMs - b.tsMs)
    .filter((r, i, all) => i === 0 || r.tsMs !== all[i - 1]!.tsMs);
  const ct = meter.ctRatio ?? 1;
  const deltas: RegisterDelta[] = [];
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!;
    const b = sorted[i]!;
    const hours = (b.tsMs - a.tsMs) / MS_PER_HOUR;
    const estimated = b.tsMs - a.tsMs > meter.intervalMs * GAP_FACTOR;
    const possible = (energy: number): boolean =>
      meter.ratedPowerKw === undefined || energy / hours <= meter.ratedPowerKw * RATED_POWER_TOLERANCE;
    const event = events.find((e) => e.tsMs > a.tsMs && e.tsMs <= b.tsMs);
    let kind: DeltaKind;
    let raw: number | null;
    if (event) {
      // Before the event the old register ran from a to its final value; after it, the new one from start to b.
      raw = event.final === undefined ? null : event.final - a.value + (b.value - (event.start ?? 0));
      kind = raw === null || raw < 0 ? 'unexplained_drop' : 'replacement';
      if (raw !== null && raw < 0) raw = null;
    } else if (b.value >= a.value) {
      raw = b.value - a.value;
      kind = 'normal';
    } else if (meter.modulus !== undefined && meter.modulus - a.value + b.value >= 0) {
      raw = meter.modulus - a.value + b.value;
      kind = 'wrap';
    } else {
      raw = null;
      kind = 'unexplained_drop';
    }
    let energy = raw === null ? null : raw * ct;
    if (energy !== null && !possible(energy)) {
      // A wrap that implies impossible power is not a wrap but an unexplained drop; a rise, an implausible jump.
      kind = kind === 'wrap' ? 'unexplained_drop' : 'implausible';
      energy = null;
    }
    deltas.push({ fromMs: a.tsMs, toMs: b.tsMs, energy, kind, estimated });
  }
  return deltas;
}

export interface WindowEnergy {
  startMs: number;
  /** Sum of the known deltas booked to the window; null when every delta of it is unknown. */
  energy: number | null;
  /** The part of `energy` spread into the window from a delta across a gap (not measured in the window itself). */
  estimatedEnergy: number;
  /** Energy across a gap was spread into the window (`estimatedEnergy` > 0, or a gap of zero energy). */
  estimated: boolean;
  /** Deltas of the window that have no value (unexplained drops, implausible jumps). */
  unknown: number;
}

/**
 * Books deltas into fixed windows (e.g. 15 minutes, aligned to the epoch; China keeps UTC+8 all year, so 15-minute
 * and hourly windows align with local time). A delta belongs to the window in which it ends (its end is exclusive of
 * the next window), so readings on window boundaries give exactly the window's energy.
 *
 * A delta across a gap (readings further apart than GAP_FACTOR intervals) was measured, but not when within its span
 * it was used: its energy is spread over the span pro rata by time (a constant load over the gap), each window
 * receiving energy × overlap ÷ span, marked estimated with that share (docs/domain.md, "Gaps"). The period's total
 * is exact; no window receives a gap's energy it could not have used, and a peak is never made of it. A silence
 * longer than MAX_BRIDGED_GAP_MS is not bridged: its delta is booked nowhere. A delta of
 * unknown energy (an unexplained drop, an implausible jump) is counted as unknown in the window where it ends.
 */
export function bookIntoWindows({
  deltas,
  windowMs,
}: {
  deltas: readonly RegisterDelta[];
  windowMs: number;
}): WindowEnergy[] {
  const windows = new Map<number, WindowEnergy>();
  const windowAt = (startMs: number): WindowEnergy => {
    let w = windows.get(startMs);
    if (!w)
      windows.set(startMs, (w = { startMs, energy: null, estimatedEnergy: 0, estimated: false, unknown: 0 }));
    return w;
  };
  for (const d of deltas) {
    if (d.toMs - d.fromMs > MAX_BRIDGED_GAP_MS) continue;
    const lastStart = Math.floor((d.toMs - 1) / windowMs) * windowMs;
    if (d.energy === null) {
      windowAt(lastStart).unknown++;
      continue;
    }
    if (!d.estimated) {
      const w = windowAt(lastStart);
      w.energy = (w.energy ?? 0) + d.energy;
      continue;
    }
    const spanMs = d.toMs - d.fromMs;
    for (let start = Math.floor(d.fromMs / windowMs) * windowMs; start <= lastStart; start += windowMs) {
      const overlapMs = Math.min(d.toMs, start + windowMs) - Math.max(d.fromMs, start);
      if (overlapMs <= 0) continue;
      const share = (d.energy * overlapMs) / spanMs;
      const w = windowAt(start);
      w.energy = (w.energy ?? 0) + share;
      w.estimatedEnergy += share;
      w.estimated = true;
    }
  }
  return [...windows.values()].sort((a, b) => a.startMs - b.startMs);
}
