import { deviceTopic, METRICS, type MetricName } from '@peakwatch/contracts';
import type { Device, Site } from '@peakwatch/registry';
import { GroundTruthBuilder } from './ground-truth';
import { siteStates, weatherAt } from './physics';
import { Rng } from './rng';
import { quarterPrice, type TouBand } from '@peakwatch/domain';
import type { SubmeterCategory } from './models/office';
import {
  faultTime,
  type DemandResponseEvent,
  type Fault,
  type PriceResponse,
  type Scenario,
} from './scenario';

/** One reading of the MQTT contract: `{ ts, seq, values }`. */
export interface Reading {
  ts: number;
  seq: number;
  values: Record<string, number>;
}

interface Addressed {
  deviceId: string;
  siteId: string;
  /** Virtual time at which the message is sent. */
  publishAtMs: number;
}

/** What the simulation asks the publisher to do, in order. */
export type Outgoing = Addressed &
  (
    | { type: 'reading'; topic: string; reading: Reading; duplicate: boolean; trueTs: number }
    | { type: 'event'; topic: string; event: Record<string, unknown> }
    | { type: 'malformed'; topic: string; payload: string }
    | { type: 'disconnect'; untilMs: number }
    | { type: 'wrong_credentials' }
  );

/** Malformed payloads a faulty device sends, in turn: not JSON, a string value, an unknown metric. */
const MALFORMED = [
  () => '{"ts": 17637120, "values": {"power_kw": 1.5',
  (ts: number) => JSON.stringify({ ts, values: { power_kw: 'NaN' } }),
  (ts: number) => JSON.stringify({ ts, values: { voltage_v: 230 } }),
];

interface DeviceRuntime {
  site: Site;
  device: Device;
  seq: number;
  /** True cumulative amounts since the start of the run (real units: kWh, m³). */
  totals: Partial<Record<MetricName, number>>;
  /** Added to total / ctRatio to give the displayed register (initial value, meter replacement). */
  offsets: Partial<Record<MetricName, number>>;
  lastDisplayed: Partial<Record<MetricName, number>>;
  faults: { fault: Fault; startMs: number; endMs: number }[];
  firedAt: Set<Fault>;
  outOfOrder: Outgoing[];
}

/** Rounds to 0.001 (the payload resolution), never giving −0. */
const round3 = (x: number): number => Math.round(x * 1000) / 1000 + 0;

/**
 * The simulation: steps virtual time by the scenario's interval, computes every device's physics, advances its
 * registers, applies the scenario's faults and returns the messages to send. Deterministic for a seed.
 */
export class Simulation {
  readonly truth: GroundTruthBuilder;
  private readonly devices: DeviceRuntime[] = [];
  private readonly pending: Outgoing[] = [];
  private readonly stepMs: number;
  private readonly duplicateProbability = new Map<string, number>();
  private readonly rng: Rng;
  /** Per price-responsive site: the energy shed in the peak bands not yet drawn back, and the valley's rate. */
  private readonly deferred = new Map<string, { kwh: number; releaseKw: number }>();
  private nextMs: number;

  constructor(
    readonly scenario: Scenario,
    private readonly options: { seed: number; fromMs: number },
  ) {
    this.stepMs = scenario.intervalSeconds * 1000;
    if (options.fromMs % this.stepMs !== 0)
      throw new Error(
        `start ${new Date(options.fromMs).toISOString()} is not on a ${scenario.intervalSeconds} s boundary`,
      );
    this.nextMs = options.fromMs;
    this.rng = Rng.for(options.seed, 'faults');
    this.truth = new GroundTruthBuilder(scenario, options.seed, options.fromMs);
    for (const site of scenario.sites) {
      for (const device of site.devices) {
        const initial = scenario.initialRegisters[device.id] ?? {};
        this.devices.push({
          site,
          device,
          seq: 0,
          totals: {},
          offsets: { ...initial },
          lastDisplayed: {},
          faults: scenario.faults
            .filter((f) => f.device === device.id && f.type !== 'duplicates')
            .map((fault) => {
              const startMs = 'at' in fault ? faultTime(fault.at, options.fromMs) : options.fromMs;
              const endMs = 'durationMinutes' in fault ? startMs + fault.durationMinutes * 60_000 : startMs;
              return { fault, startMs, endMs };
            }),
          firedAt: new Set(),
          outOfOrder: [],
        });
      }
    }
    for (const fault of scenario.faults) {
      if (fault.type === 'duplicates') this.duplicateProbability.set(fault.device, fault.probability);
    }
  }

  /** Virtual time of the next step. */
  get nextStepMs(): number {
    return this.nextMs;
  }

  get intervalMs(): number {
    return this.stepMs;
  }

  /**
   * Runs the step at `nextStepMs` and returns the messages due by then, in send order. With `last`, the step only
   * reads the registers (closing the final interval) and every held message is released.
   */
  step({ last = false } = {}): Outgoing[] {
    const t = this.nextMs;
    const out: Outgoing[] = [];
    const weather = weatherAt(t, this.scenario, this.options.seed);
    const statesBySite = new Map(
      this.scenario.sites.map((site) => [
        site.id,
        siteStates({
          site,
          tsMs: t,
          weather,
          scenario: this.scenario,
          seed: this.options.seed,
          runStartMs: this.options.fromMs,
          ...this.responseAt(site.id, t),
        }),
      ]),
    );
    for (const rt of this.devices) {
      const state = statesBySite.get(rt.site.id)!.get(rt.device.id);
      if (!state) continue;
      this.applyOneShotFaults(rt, t, out);
      const values: Record<string, number> = {};
      const ct = rt.device.ctRatio ?? 1;
      for (const metric of Object.keys(state.rates) as MetricName[]) {
        const shown = this.displayed(rt, metric);
        const previous = rt.lastDisplayed[metric];
        if (previous !== undefined && shown < previous && !this.replacedAt(rt, t)) {
          this.truth.fault({
            type: 'register_wrap',
            device: rt.device.id,
            at: iso(t),
            detail: { metric, before: previous, after: shown },
          });
        }
        rt.lastDisplayed[metric] = shown;
        values[metric] = shown;
      }
      for (const [metric, value] of Object.entries(state.instant))
        values[metric] = round3(value / (metric === 'power_kw' ? ct : 1));
      this.emitReading(rt, t, values, out, last);
      if (!last) {
        if (state.reductionKw !== undefined) this.bookReduction(rt.site.id, t, state.reductionKw);
        for (const [metric, rate] of Object.entries(state.rates) as [MetricName, number][]) {
          const amount = (rate * this.stepMs) / 3_600_000;
          rt.totals[metric] = (rt.totals[metric] ?? 0) + amount;
          this.truth.addAmount(rt.device.id, metric, t, amount);
        }
      }
    }
    this.nextMs = t + this.stepMs;
    this.pending.push(...out.filter((o) => o.publishAtMs > t));
    const due = out.filter((o) => o.publishAtMs <= t);
    const released = this.release(last ? Number.POSITIVE_INFINITY : t);
    if (last) for (const rt of this.devices) released.push(...rt.outOfOrder.splice(0).reverse());
    return [...released, ...due];
  }

  /** The demand-response event of the scenario the site answers over the step at `t`, if any. */
  private eventAt(siteId: string, t: number): DemandResponseEvent | undefined {
    return this.scenario.demandResponse.find((e) => {
      const startMs = faultTime(e.at, this.options.fromMs);
      return e.sites.includes(siteId) && startMs <= t && t < startMs + e.durationMinutes * 60_000;
    });
  }

  /** The band of the site's tariff over the step at `t`, for a price-responsive site. */
  private bandAt(response: PriceResponse, t: number): TouBand | undefined {
    return quarterPrice({
      divisions: response.divisions,
      versions: response.versions,
      startMs: t,
      utcOffsetMs: this.scenario.location.utcOffsetHours * 3_600_000,
    })?.band;
  }

  /**
   * What the site sheds or adds over the step at `t`: a demand-response event's shares; else, for a price-responsive
   * site, its shares in the critical and peak bands, and in a valley band what it shed before, spread evenly over the
   * valley's steps from its first one (the first category it shifts draws it).
   */
  private responseAt(
    siteId: string,
    t: number,
  ): { shed?: Partial<Record<SubmeterCategory, number>>; addKw?: Partial<Record<SubmeterCategory, number>> } {
    const event = this.eventAt(siteId, t);
    if (event) return { shed: event.shed };
    const response = this.scenario.priceResponse.get(siteId);
    if (!response) return {};
    const deferred = this.deferred.get(siteId) ?? { kwh: 0, releaseKw: 0 };
    this.deferred.set(siteId, deferred);
    const band = this.bandAt(response, t);
    if (band === 'critical' || band === 'peak') {
      deferred.releaseKw = 0;
      return { shed: response.shift };
    }
    if (band !== 'valley' || deferred.kwh <= 0) {
      deferred.releaseKw = 0;
      return {};
    }
    if (deferred.releaseKw === 0) {
      let steps = 0;
      while (steps < 86_400_000 / this.stepMs && this.bandAt(response, t + steps * this.stepMs) === 'valley')
        steps++;
      deferred.releaseKw = deferred.kwh / ((steps * this.stepMs) / 3_600_000);
    }
    const category = Object.keys(response.shift)[0] as SubmeterCategory;
    return { addKw: { [category]: Math.min(deferred.releaseKw, (deferred.kwh * 3_600_000) / this.stepMs) } };
  }

  /**
   * Books what the site's grid imports were reduced by over the step at `t` (kW; negative: increased): to the event's
   * truth, or to the price response's (and what it has yet to draw in the valley).
   */
  private bookReduction(siteId: string, t: number, reductionKw: number): void {
    const kwh = (reductionKw * this.stepMs) / 3_600_000;
    if (this.eventAt(siteId, t)) return this.truth.addDrReduction(siteId, t, kwh);
    this.truth.addPriceShift(siteId, t, kwh);
    const deferred = this.deferred.get(siteId);
    if (deferred) deferred.kwh = Math.max(0, deferred.kwh + kwh);
  }

  private replacedAt(rt: DeviceRuntime, t: number): boolean {
    return rt.faults.some(
      (f) =>
        f.fault.type === 'meter_replacement' &&
        rt.firedAt.has(f.fault) &&
        f.startMs <= t &&
        t < f.startMs + this.stepMs,
    );
  }

  /** The register as the meter shows it: scaled by the CT ratio, offset, wrapped at the modulus, to 0.001. */
  private displayed(rt: DeviceRuntime, metric: MetricName): number {
    const ct = METRICS[metric].unit === 'kWh' ? (rt.device.ctRatio ?? 1) : 1;
    let value = (rt.totals[metric] ?? 0) / ct + (rt.offsets[metric] ?? 0);
    const modulus = rt.device.registerModulusKwh;
    if (modulus && METRICS[metric].unit === 'kWh') value = ((value % modulus) + modulus) % modulus;
    return round3(value);
  }

  private applyOneShotFaults(rt: DeviceRuntime, t: number, out: Outgoing[]): void {
    const { device, site } = rt;
    for (const { fault, startMs, endMs } of rt.faults) {
      if (rt.firedAt.has(fault) || t < startMs) continue;
      switch (fault.type) {
        case 'meter_replacement': {
          rt.firedAt.add(fault);
          const final: Record<string, number> = {};
          const start: Record<string, number> = {};
          for (const metric of Object.keys(rt.totals) as MetricName[]) {
            if (METRICS[metric].unit !== 'kWh') continue;
            final[metric] = this.displayed(rt, metric);
            start[metric] = fault.startKwh;
            rt.offsets[metric] = fault.startKwh - (rt.totals[metric] ?? 0) / (device.ctRatio ?? 1);
            rt.lastDisplayed[metric] = fault.startKwh;
          }
          out.push({
            type: 'event',
            deviceId: device.id,
            siteId: site.id,
            publishAtMs: t,
            topic: deviceTopic(site.id, device.id, 'event'),
            event: { ts: t, type: 'meter_replaced', final, start },
          });
          this.truth.fault({
            type: 'meter_replacement',
            device: device.id,
            at: iso(t),
            detail: { ...prefix('final_', final), ...prefix('start_', start) },
          });
          break;
        }
        case 'malformed':
          rt.firedAt.add(fault);
          for (let i = 0; i < fault.count; i++) {
            out.push({
              type: 'malformed',
              deviceId: device.id,
              siteId: site.id,
              publishAtMs: t,
              topic: deviceTopic(site.id, device.id, 'telemetry'),
              payload: MALFORMED[i % MALFORMED.length]!(t),
            });
          }
          this.truth.fault({
            type: 'malformed',
            device: device.id,
            at: iso(t),
            detail: { count: fault.count },
          });
          break;
        case 'wrong_credentials':
          rt.firedAt.add(fault);
          out.push({ type: 'wrong_credentials', deviceId: device.id, siteId: site.id, publishAtMs: t });
          this.truth.fault({ type: 'wrong_credentials', device: device.id, at: iso(t) });
          break;
        case 'offline':
          rt.firedAt.add(fault);
          out.push({
            type: 'disconnect',
            deviceId: device.id,
            siteId: site.id,
            publishAtMs: t,
            untilMs: endMs,
          });
          this.truth.fault({ type: 'offline', device: device.id, at: iso(t), until: iso(endMs) });
          break;
        case 'gap':
        case 'out_of_order':
        case 'late_batch':
        case 'clock_skew':
          rt.firedAt.add(fault);
          this.truth.fault({
            type: fault.type,
            device: device.id,
            at: iso(startMs),
            until: iso(endMs),
            ...faultDetail(fault),
          });
          break;
        case 'loss':
          rt.firedAt.add(fault);
          this.truth.fault({
            type: 'loss',
            device: device.id,
            at: iso(t),
            detail: { probability: fault.probability },
          });
          break;
        case 'spike':
        case 'duplicates':
          break;
      }
    }
  }

  private emitReading(
    rt: DeviceRuntime,
    t: number,
    values: Record<string, number>,
    out: Outgoing[],
    last: boolean,
  ): void {
    const { device, site } = rt;
    const seq = rt.seq++;
    this.truth.expectReading(device.id, t);
    const active = (type: Fault['type']) =>
      rt.faults.find((f) => f.fault.type === type && f.startMs <= t && t < f.endMs);
    const flushOutOfOrder = (): void => {
      for (const held of rt.outOfOrder.splice(0).reverse()) out.push({ ...held, publishAtMs: t });
    };
    // a lossy link loses readings at random, but never the run's last (which closes every window)
    const loss = rt.faults.find((f) => f.fault.type === 'loss');
    const lost = loss?.fault.type === 'loss' && !last && this.rng.next() < loss.fault.probability;
    if (active('gap') || active('offline') || lost) {
      if (rt.outOfOrder.length > 0 && !active('out_of_order')) flushOutOfOrder();
      return;
    }
    let ts = t;
    const skew = active('clock_skew');
    if (skew?.fault.type === 'clock_skew') ts += skew.fault.skewSeconds * 1000;
    const spike = rt.faults.find(
      (f) => f.fault.type === 'spike' && !rt.firedAt.has(f.fault) && f.startMs <= t,
    );
    if (spike?.fault.type === 'spike' && values['power_kw'] !== undefined) {
      rt.firedAt.add(spike.fault);
      values['power_kw'] = round3(values['power_kw'] * spike.fault.factor);
      this.truth.fault({
        type: 'spike',
        device: device.id,
        at: iso(t),
        detail: { factor: spike.fault.factor },
      });
    }
    const late = active('late_batch');
    const publishAtMs = late?.fault.type === 'late_batch' ? t + late.fault.delayMinutes * 60_000 : t;
    const message: Outgoing = {
      type: 'reading',
      deviceId: device.id,
      siteId: site.id,
      publishAtMs,
      topic: deviceTopic(site.id, device.id, 'telemetry'),
      reading: { ts, seq, values },
      duplicate: false,
      trueTs: t,
    };
    if (active('out_of_order')) {
      rt.outOfOrder.push(message);
      return;
    }
    if (rt.outOfOrder.length > 0) flushOutOfOrder();
    out.push(message);
    const p = this.duplicateProbability.get(device.id) ?? this.duplicateProbability.get('*') ?? 0;
    if (p > 0 && this.rng.next() < p) out.push({ ...message, duplicate: true });
  }

  private release(upToMs: number): Outgoing[] {
    const due = this.pending
      .filter((o) => o.publishAtMs <= upToMs)
      .sort((a, b) => a.publishAtMs - b.publishAtMs);
    for (const o of due) this.pending.splice(this.pending.indexOf(o), 1);
    return due;
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function prefix(p: string, values: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [`${p}${k}`, v]));
}

function faultDetail(fault: Fault): { detail?: Record<string, number> } {
  switch (fault.type) {
    case 'late_batch':
      return { detail: { delayMinutes: fault.delayMinutes } };
    case 'clock_skew':
      return { detail: { skewSeconds: fault.skewSeconds } };
    default:
      return {};
  }
}
