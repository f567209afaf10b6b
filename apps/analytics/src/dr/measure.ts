import {
  DR_ADJUSTMENT_GAP_QUARTERS,
  DR_ADJUSTMENT_QUARTERS,
  DR_BASELINE_DAYS,
  DR_LOOKBACK_DAYS,
  averageBaseline,
  drResponse,
  requestShareKw,
  sameDayAdjustment,
  type QuarterLoads,
} from '@peakwatch/domain';
import type { InfluxClient } from '@peakwatch/influx';
import { readKpis } from '@peakwatch/metering';
import type { DrEvent, DrEventResult, DrSiteResult } from '@peakwatch/state';

const QUARTER_MS = 900_000;
const DAY_MS = 86_400_000;

/** The local date (YYYY-MM-DD) and weekday (0 Sunday) of an instant in a zone `utcOffsetMs` ahead of UTC. */
function localDay(ms: number, utcOffsetMs: number): { date: string; weekday: number } {
  const local = new Date(ms + utcOffsetMs);
  return { date: local.toISOString().slice(0, 10), weekday: local.getUTCDay() };
}

/**
 * The days (as offsets in whole days before the event) whose quarters a site's baseline averages: the DR_BASELINE_DAYS
 * latest working days (Monday to Friday) within DR_LOOKBACK_DAYS before the event's day, less the days of the site's
 * own `earlier` events. Public holidays are not known to PeakWatch and count as working days.
 */
export function baselineDays(startMs: number, earlier: readonly DrEvent[], utcOffsetMs: number): number[] {
  const eventDays = new Set(
    earlier.flatMap((e) => {
      const days: string[] = [];
      for (let t = Date.parse(e.startsAt); t < Date.parse(e.endsAt); t += QUARTER_MS)
        days.push(localDay(t, utcOffsetMs).date);
      return days;
    }),
  );
  const out: number[] = [];
  for (let d = 1; d <= DR_LOOKBACK_DAYS && out.length < DR_BASELINE_DAYS; d++) {
    const { date, weekday } = localDay(startMs - d * DAY_MS, utcOffsetMs);
    if (weekday >= 1 && weekday <= 5 && !eventDays.has(date)) out.push(d);
  }
  return out;
}

/**
 * Measures an event's response (docs/domain.md, "Demand response") from each site's measured load per quarter hour
 * (its `demand_kw` KPI; a quarter spread over a gap counts as unknown): the baseline of the event's quarters from its
 * baseline days, adjusted by the same-day ratio, against the load of the event's quarters. `earlier` are the events
 * of its sites before it (their days are left out of the baselines).
 */
export async function measureDrEvent(
  influx: InfluxClient,
  event: DrEvent,
  earlier: readonly DrEvent[],
  utcOffsetMs: number,
): Promise<DrEventResult> {
  const startMs = Date.parse(event.startsAt);
  const endMs = Date.parse(event.endsAt);
  const quarters = Array.from(
    { length: Math.round((endMs - startMs) / QUARTER_MS) },
    (_, q) => startMs + q * QUARTER_MS,
  );
  const adjustment = Array.from(
    { length: DR_ADJUSTMENT_QUARTERS },
    (_, q) => startMs - (DR_ADJUSTMENT_GAP_QUARTERS + DR_ADJUSTMENT_QUARTERS - q) * QUARTER_MS,
  );
  const stored = await readKpis(influx, {
    scope: 'site',
    period: '15m',
    kpi: 'demand_kw',
    entities: event.siteIds,
    fromMs: adjustment[0]! - (DR_LOOKBACK_DAYS + 1) * DAY_MS,
    toMs: endMs,
  });
  const measured = new Map<string, Map<number, number>>();
  for (const k of stored)
    if (k.value !== null && !k.estimated) {
      const site = measured.get(k.entity) ?? measured.set(k.entity, new Map()).get(k.entity)!;
      site.set(k.windowStartMs, k.value);
    }
  const perSite = event.siteIds.map((siteId) => {
    const load = measured.get(siteId) ?? new Map<number, number>();
    const at = (times: readonly number[], daysBefore = 0): QuarterLoads =>
      times.map((t) => load.get(t - daysBefore * DAY_MS) ?? null);
    const days = baselineDays(
      startMs,
      earlier.filter((e) => e.siteIds.includes(siteId)),
      utcOffsetMs,
    );
    const baseline = averageBaseline(days.map((d) => at(quarters, d)));
    const factor = sameDayAdjustment(at(adjustment), averageBaseline(days.map((d) => at(adjustment, d))));
    const adjusted = baseline.map((kw) => (kw === null ? null : kw * factor));
    return {
      siteId,
      response: drResponse(adjusted, at(quarters)),
      adjustment: factor,
      baselineDays: days.map((d) => localDay(startMs - d * DAY_MS, utcOffsetMs).date),
    };
  });
  const totalBaselineKw = perSite.reduce((s, r) => s + (r.response.baselineKw ?? 0), 0);
  const sites: DrSiteResult[] = perSite.map(
    ({ siteId, response, adjustment: factor, baselineDays: days }) => {
      const requestedKw = requestShareKw(event.requestedKw, response.baselineKw, totalBaselineKw);
      return {
        siteId,
        requestedKw,
        ...response,
        met: response.reducedKw === null ? null : response.reducedKw >= requestedKw,
        adjustment: factor,
        baselineDays: days,
      };
    },
  );
  const known = sites.filter((s) => s.reducedKw !== null);
  const sum = (f: (s: DrSiteResult) => number | null): number | null =>
    known.length > 0 ? known.reduce((total, s) => total + (f(s) ?? 0), 0) : null;
  const reducedKw = sum((s) => s.reducedKw);
  return {
    sites,
    total: {
      requestedKw: event.requestedKw,
      reducedKw,
      shiftedKwh: sites.reduce((total, s) => total + s.shiftedKwh, 0),
      baselineKw: sum((s) => s.baselineKw),
      actualKw: sum((s) => s.actualKw),
      met: reducedKw === null ? null : reducedKw >= event.requestedKw,
      completeness: sites.reduce((total, s) => total + s.completeness, 0) / Math.max(1, sites.length),
    },
  };
}
