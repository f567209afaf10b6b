import {
  DR_ADJUSTMENT_GAP_QUARTERS,
  DR_ADJUSTMENT_QUARTERS,
  DR_BASELINE_DAYS,
  DR_LOOKBACK_DAYS,
  averageBaseline,
  drResponse,
  peakShavingShare,
  requestShareKw,
  sameDayAdjustment,
  type QuarterLoads,
} from '@peakwatch/domain';
import { MEASUREMENTS } from '@peakwatch/contracts';
import { floatField, line, stringField, type InfluxClient } from '@peakwatch/influx';
import { kpiLine, readKpis, writeKpiLines } from '@peakwatch/metering';
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
): Promise<{ result: DrEventResult; baselines: Map<string, { startMs: number; kw: number | null }[]> }> {
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
      adjusted,
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
  const baselines = new Map(
    perSite.map((r) => [r.siteId, quarters.map((startMs, q) => ({ startMs, kw: r.adjusted[q] ?? null }))]),
  );
  const result: DrEventResult = {
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
  return { result, baselines };
}

/**
 * An event's measurement as Grafana draws it (docs/contracts.md, "InfluxDB measurements"): each site's adjusted
 * baseline per quarter hour (`dr_baseline_kw`, the event's id its category, beside the site's `demand_kw`), and one
 * `dr_event` point per site and one for the total, stamped with the event's start.
 */
export async function writeDrMeasurement(
  influx: InfluxClient,
  event: DrEvent,
  { result, baselines }: Awaited<ReturnType<typeof measureDrEvent>>,
): Promise<void> {
  const lines: string[] = [];
  for (const [siteId, quarters] of baselines)
    for (const { startMs, kw } of quarters)
      if (kw !== null)
        lines.push(
          kpiLine(
            {
              kpi: 'dr_baseline_kw',
              category: event.id,
              windowStartMs: startMs,
              value: kw,
              numerator: kw,
              denominator: 1,
              completeness: 1,
              estimated: false,
              estimatedShare: 0,
            },
            { scope: 'site', entity: siteId, period: '15m' },
          ),
        );
  const point = (site: string, r: DrEventResult['total']): string =>
    line(
      MEASUREMENTS.drEvent,
      { event: event.id, district: event.district, site },
      {
        requested_kw: floatField(r.requestedKw),
        ...(r.reducedKw === null ? {} : { reduced_kw: floatField(r.reducedKw) }),
        shifted_kwh: floatField(r.shiftedKwh),
        ...(r.met === null ? {} : { met: r.met ? 'true' : 'false' }),
        completeness: floatField(r.completeness),
        ends_at: stringField(event.endsAt),
      },
      Date.parse(event.startsAt),
    );
  for (const s of result.sites) lines.push(point(s.siteId, s));
  lines.push(point(DR_TOTAL, result.total));
  await writeKpiLines(influx, lines);
}

/** The `site` tag of an event's total in `dr_event`. */
const DR_TOTAL = 'total';

/**
 * Writes each district's peak-shaving capability of a year (`peak_shaving_share`, scope district, period 1y;
 * docs/domain.md, "Demand response") from its `events` measured in that year: the largest total reduction of one
 * event (numerator) over the district's coincident peak of the year (denominator), or no value without one.
 */
export async function writePeakShaving(
  influx: InfluxClient,
  events: readonly DrEvent[],
  year: { startMs: number; endMs: number },
): Promise<void> {
  const best = new Map<string, number>();
  for (const e of events) {
    const reduced = e.result?.total.reducedKw;
    if (reduced === null || reduced === undefined) continue;
    best.set(e.district, Math.max(best.get(e.district) ?? Number.NEGATIVE_INFINITY, reduced));
  }
  if (best.size === 0) return;
  const peaks = await readKpis(influx, {
    scope: 'district',
    period: '1y',
    kpi: 'coincident_peak_kw',
    entities: [...best.keys()],
    fromMs: year.startMs,
    toMs: year.startMs + 1,
  });
  const lines = [...best].map(([district, reducedKw]) => {
    const peak = peaks.find((p) => p.entity === district);
    const maxLoadKw = peak?.value ?? null;
    return kpiLine(
      {
        kpi: 'peak_shaving_share',
        windowStartMs: year.startMs,
        value: peakShavingShare(reducedKw, maxLoadKw),
        numerator: reducedKw,
        denominator: maxLoadKw ?? 0,
        completeness: peak?.completeness ?? 0,
        estimated: peak?.estimated ?? false,
        estimatedShare: peak?.estimatedShare ?? 0,
        ...(peak?.atMs === undefined ? {} : { atMs: peak.atMs }),
      },
      { scope: 'district', entity: district, period: '1y' },
    );
  });
  await writeKpiLines(influx, lines);
}
