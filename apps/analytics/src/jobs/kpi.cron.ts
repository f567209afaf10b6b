import { performance } from 'node:perf_hooks';
import { Injectable, Logger } from '@nestjs/common';
import { Cron } from '@nestjs/schedule';
import { InjectConfig, type AppConfig } from '@peakwatch/config';
import type { KpiPeriod } from '@peakwatch/contracts';
import { InfluxClient } from '@peakwatch/influx';
import { PolicyData } from '@peakwatch/policy';
import { Registry } from '@peakwatch/registry';
import { Clock, LiveEvents, SingleRun } from '@peakwatch/runtime';
import { DeclaredInputsRepository, DrEvents, JobLeases, StateStore, slotOf } from '@peakwatch/state';
import { writeKpiSeries, type FixedRanges } from '../kpi/kpi-series';
import { LateDataMarks, type LateSpan } from '../kpi/late-data';
import {
  IMPORT_FINE_PERIODS,
  kpiFactorsFor,
  periodWindow,
  utcOffsetMs,
  windowsOf,
  writeKpiLines,
  type CalendarPeriod,
  type FixedPeriod,
  type KpiWindowRange,
} from '@peakwatch/metering';
import {
  AreaRollup,
  CALENDAR_PERIODS,
  combineShares,
  shareResult,
  writeAreaKpis,
  writeCalendarKpis,
  type CalendarFactors,
} from '../kpi/rollups';
import { coincidentWindows, writeCoincidentPeaks } from '../kpi/coincident';
import { measureDrEvent, writeDrMeasurement, writePeakShaving } from '../dr/measure';
import { DR_LOOKBACK_DAYS } from '@peakwatch/domain';

/** Every 15 minutes, 2 minutes past the quarter so that the quarter's last readings have arrived. */
export const KPI_CRON = '2,17,32,47 * * * *';
/**
 * How far back each run recomputes, per period (ms), besides the windows late data touched: recent windows are
 * rewritten as their readings complete. A reading more than LATE_AFTER_MS (15 minutes) old on arrival is marked late
 * and its windows recomputed from the mark, so a run must only cover what arrived on time since the run before (30
 * minutes); these margins are several runs wide. The day reaches back 3 hours: today's window, and yesterday's until
 * 03:00; the days before are read only for late data (bench:city, docs/deployment.md: at 10,000 sites, reading two days
 * of registers every run cost more than the quarter hour allows). The calendar periods follow the days.
 */
export const KPI_LOOKBACK_MS: Record<FixedPeriod, number> = {
  '15m': 2 * 3_600_000,
  '1h': 6 * 3_600_000,
  '1d': 3 * 3_600_000,
};
const FIXED_PERIODS = Object.keys(KPI_LOOKBACK_MS) as FixedPeriod[];
/**
 * How long after a demand-response event ends it is measured: two runs, so that its last quarter hour's readings
 * (on time within LATE_AFTER_MS) are in the sites' quarters.
 */
const DR_MEASURE_AFTER_MS = 30 * 60_000;
/** For how long after its end an event is measured again at every run: readings that come late within it count. */
const DR_MEASURED_AGAIN_MS = 24 * 3_600_000;
/** The schedule's period (ms): one run per quarter hour. */
const KPI_RUN_PERIOD_MS = 15 * 60_000;
/**
 * Shares of the sites a run is cut into when replicas share the state store (docs/deployment.md, "Replicas"): each
 * share is leased to one replica, so R replicas do a run's site windows in about ⌈8 / R⌉ shares' time.
 */
export const KPI_SITE_SHARES = 8;

/** One recomputation of a site's windows after late data, as logged. */
export interface LateRecomputation {
  siteId: string;
  /** Device-time span of the late readings. */
  fromMs: number;
  toMs: number;
  /** Windows recomputed per period. */
  windows: Partial<Record<KpiPeriod, number>>;
}

/** Runs of consecutive windows (deduplicated, oldest first) as [fromMs, toMs) ranges. */
function runsOf(windows: Iterable<KpiWindowRange>): { fromMs: number; toMs: number }[] {
  const sorted = [...new Map([...windows].map((w) => [w.startMs, w])).values()].sort(
    (a, b) => a.startMs - b.startMs,
  );
  const runs: { fromMs: number; toMs: number }[] = [];
  for (const w of sorted) {
    const last = runs.at(-1);
    if (last && w.startMs <= last.toMs) last.toMs = Math.max(last.toMs, w.endMs);
    else runs.push({ fromMs: w.startMs, toMs: w.endMs });
  }
  return runs;
}

/**
 * The scheduled KPI job. Each run writes the `kpi` series for
 * - the recent windows of every period, for every site, with their district and city roll-ups;
 * - exactly the windows that late readings fall in (ingest's `ingest_late` marks, within INGEST_HORIZON_DAYS), for
 *   their site, and the roll-ups of those windows; each such recomputation is logged.
 * Sites' 15m, 1h and 1d windows come from the readings; a month from its days, a year and a rolling 12 months from
 * months; districts and the city from their sites (the values just computed when every site was; the sums each
 * replica's share of the sites left, when the run was leased in shares; else the stored ones). Keyed by window (the same window gives the same points), so a rerun or an overlap does no harm.
 */
@Injectable()
export class KpiCron {
  private readonly logger = new Logger('KpiCron');
  private readonly single = new SingleRun((error) =>
    this.logger.warn({ err: String(error) }, 'KPI run failed; the next run covers these windows again'),
  );
  private readonly late: LateDataMarks;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly influx: InfluxClient,
    private readonly registry: Registry,
    private readonly policy: PolicyData,
    private readonly live: LiveEvents = new LiveEvents(),
    private readonly clock: Clock = Clock.system(),
    /** The state store, for the green power organisations declare (none: nothing declared). */
    state?: StateStore,
    /** Leases of the runs, shared with other replicas on PostgreSQL (none, or SQLite: this process runs alone). */
    private readonly leases?: JobLeases,
  ) {
    this.late = new LateDataMarks(influx, config.ingest.horizonMs);
    this.declared = state ? new DeclaredInputsRepository(state) : undefined;
    this.drEvents = state ? new DrEvents(state) : undefined;
  }

  private readonly declared: DeclaredInputsRepository | undefined;
  private readonly drEvents: DrEvents | undefined;
  /** Seconds each step of the run in progress took (logged at its end: where a city's run spends its time). */
  private steps = new Map<string, number>();
  /** The newest declaration change already written into the KPIs (none at a process's first run). */
  private declarationsSeen: string | undefined;

  /**
   * What the calendar periods' renewable shares are credited with (seeds, in force now): a season's heat pumps' minimum
   * SPF and the coal equivalent of heat, and the coal equivalents of electricity for green power bought.
   */
  private calendarFactors(nowMs: number): CalendarFactors {
    const factors = kpiFactorsFor(
      this.policy,
      new Date(nowMs + utcOffsetMs(this.config.tzReporting, nowMs)).getUTCFullYear(),
    );
    return {
      minSpf: factors.heatPumpMinSpf,
      heatKgcePerKwh: factors.coal.heatKgcePerKwh,
      electricityKgcePerKwh: factors.coal.electricityKgcePerKwh,
      generationKgcePerKwh: factors.generationKgcePerKwh,
    };
  }

  @Cron(KPI_CRON)
  async tick(): Promise<void> {
    await this.single.run(() => this.scheduled(this.clock.now()));
  }

  /**
   * A scheduled run. Alone (SQLite), the whole of it. With replicas (PostgreSQL), in leased parts: the recent windows
   * of each share of the sites (KPI_SITE_SHARES), done by whichever replicas are free, then, once every share is done,
   * the rest (calendar periods, declarations, late data, districts and the city) by one of them.
   */
  async scheduled(nowMs: number): Promise<void> {
    if (!this.leases?.shared) {
      await this.runOnce(nowMs);
      return;
    }
    this.steps = new Map();
    const slot = slotOf(nowMs, KPI_RUN_PERIOD_MS);
    const untilMs = nowMs + KPI_RUN_PERIOD_MS;
    // every part of the run, on whichever replica, computes the windows of the run's moment
    const offset = utcOffsetMs(this.config.tzReporting, nowMs);
    const shares = Array.from({ length: KPI_SITE_SHARES }, (_, i) =>
      this.registry.sites.filter((_, n) => n % KPI_SITE_SHARES === i).map((s) => s.id),
    ).filter((share) => share.length > 0);
    const sites = await this.leases.runParts(
      'kpi',
      slot,
      shares.map((_, i) => `sites-${i}`),
      async (part) => {
        // the share's district and city sums, kept with its lease for the part that ends the run
        const rollups = new Map<FixedPeriod, AreaRollup>();
        const share = shares[Number(part.slice('sites-'.length))];
        await this.step('sites', () => this.writeSites(this.recentRanges(nowMs), offset, share, rollups));
        return shareResult(share!, rollups.values());
      },
      untilMs,
    );
    if (!sites.complete) return; // the next run covers these windows again
    await this.leases.runParts(
      'kpi',
      slot,
      ['rest'],
      async () => {
        const shareSums = combineShares(this.registry, shares, await this.leases!.results('kpi', slot));
        await this.runRest(nowMs, offset, shareSums);
        await this.leases!.clearResults('kpi', slot);
      },
      untilMs,
    );
  }

  /** Recomputes the recent windows before `nowMs` and the windows late data touched; returns the latter. */
  async runOnce(nowMs: number): Promise<LateRecomputation[]> {
    this.steps = new Map();
    const offset = utcOffsetMs(this.config.tzReporting, nowMs);
    // every site's recent windows, with their district and city roll-ups
    await this.step('sites', () => this.writeSites(this.recentRanges(nowMs), offset));
    return this.runRest(nowMs, offset, 'written');
  }

  private async step<T>(name: string, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      this.addStep(name, started);
    }
  }

  private addStep(name: string, startedMs: number): void {
    this.steps.set(name, (this.steps.get(name) ?? 0) + (performance.now() - startedMs) / 1000);
  }

  /** The recent windows of each fixed period before `nowMs`, which every run writes again. */
  private recentRanges(nowMs: number): FixedRanges {
    return Object.fromEntries(
      FIXED_PERIODS.map((p) => [p, { fromMs: nowMs - KPI_LOOKBACK_MS[p], toMs: nowMs }]),
    );
  }

  /**
   * All of a run but the sites' recent windows: the calendar periods, the periods of declarations changed, the windows
   * of late data, and the districts and the city of all these. The recent windows' districts and city: `written` with
   * the sites', or (the sites written in shares) the shares' sums combined, or `read` back from every site's values
   * when a share left none.
   */
  private async runRest(
    nowMs: number,
    offset: number,
    recentAreas: 'written' | 'read' | AreaRollup[],
  ): Promise<LateRecomputation[]> {
    const areaWindows = new Map<KpiPeriod, KpiWindowRange[]>();
    const addArea = (period: KpiPeriod, windows: KpiWindowRange[]): void => {
      areaWindows.set(period, [...(areaWindows.get(period) ?? []), ...windows]);
    };
    if (recentAreas === 'read')
      for (const period of FIXED_PERIODS)
        addArea(period, windowsOf(period, nowMs - KPI_LOOKBACK_MS[period], nowMs, offset));
    else if (recentAreas !== 'written')
      await this.step('areas of the shares', () =>
        writeKpiLines(
          this.influx,
          recentAreas.flatMap((rollup) => rollup.lines()),
        ),
      );
    await this.writeCalendar(nowMs - KPI_LOOKBACK_MS['1d'], nowMs, nowMs, offset, undefined, addArea);

    // the months and years of green power declared since the last run (their sites' calendar windows, written again)
    const declarations = await this.declarationChanges(offset);
    for (const { siteIds, fromMs, toMs } of declarations.periods)
      await this.writeCalendar(fromMs, toMs, nowMs, offset, siteIds, addArea);
    this.declarationsSeen = declarations.seen; // only once written: a failed run takes them up again

    const { spans, marks } = await this.late.pending(nowMs);
    const recomputations: LateRecomputation[] = [];
    const bySite = new Map<string, LateSpan[]>();
    for (const span of spans) bySite.set(span.siteId, [...(bySite.get(span.siteId) ?? []), span]);
    for (const [siteId, siteSpans] of bySite) {
      const windows: LateRecomputation['windows'] = {};
      for (const period of FIXED_PERIODS) {
        const affected = siteSpans.flatMap((s) =>
          windowsOf(
            period,
            IMPORT_FINE_PERIODS.has(period) ? s.fineFromMs : s.earliestMs,
            s.latestMs + 1,
            offset,
          ),
        );
        for (const run of runsOf(affected)) await this.writeSites({ [period]: run }, offset, [siteId]);
        windows[period] = new Set(affected.map((w) => w.startMs)).size;
        addArea(period, affected);
      }
      const months = siteSpans.flatMap((s) => windowsOf('1mo', s.earliestMs, s.latestMs + 1, offset));
      for (const run of runsOf(months)) {
        await this.writeCalendar(run.fromMs, run.toMs, nowMs, offset, [siteId], addArea, windows);
        // the rolling 12 months that hold these months and end in the eleven after them, up to this month's
        const later = windowsOf('1mo', run.toMs, nowMs, offset).slice(0, 11).at(-1);
        if (later)
          await this.writeCalendar(run.toMs, later.endMs, nowMs, offset, [siteId], addArea, windows, [
            'rolling_12mo',
          ]);
      }
      const recomputation: LateRecomputation = {
        siteId,
        fromMs: Math.min(...siteSpans.map((s) => s.earliestMs)),
        toMs: Math.max(...siteSpans.map((s) => s.latestMs)) + 1,
        windows,
      };
      recomputations.push(recomputation);
      this.logger.log(
        {
          site: siteId,
          from: new Date(recomputation.fromMs).toISOString(),
          to: new Date(recomputation.toMs).toISOString(),
          windows,
        },
        'late data: KPI windows recomputed',
      );
    }

    for (const [period, windows] of areaWindows) {
      const started = performance.now();
      for (const run of runsOf(windows)) {
        const inRun = windows
          .filter((w) => w.startMs >= run.fromMs && w.startMs < run.toMs)
          .sort((a, b) => a.startMs - b.startMs);
        await writeAreaKpis({ influx: this.influx, registry: this.registry, period, windows: inRun });
      }
      this.addStep(`areas ${period}`, started);
    }
    // the districts' and the city's coincident peaks of these days, from their quarters just written
    const days = [
      ...windowsOf('1d', nowMs - KPI_LOOKBACK_MS['1d'], nowMs, offset),
      ...(areaWindows.get('1d') ?? []),
    ];
    await this.step('coincident peaks', () =>
      writeCoincidentPeaks(this.influx, coincidentWindows(days, offset), offset),
    );
    await this.step('demand response', () => this.measureDrEvents(nowMs, offset));
    this.late.markHandled(marks);
    const steps = Object.fromEntries([...this.steps].map(([name, s]) => [name, Math.round(s * 100) / 100]));
    this.steps = new Map();
    this.logger.log({ seconds: steps }, 'KPI run: the time of its steps');
    return recomputations;
  }

  /**
   * Measures the demand-response events that ended DR_MEASURE_AFTER_MS ago or more, from the sites' quarters this run
   * and the ones before wrote, and records each result (docs/domain.md, "Demand response"); again at every run for
   * DR_MEASURED_AGAIN_MS after their end, so that readings that came late count.
   */
  private async measureDrEvents(nowMs: number, offset: number): Promise<void> {
    if (!this.drEvents) return;
    const iso = (ms: number): string => new Date(ms).toISOString();
    // the years whose capability is written again: this one (its maximum load grows), and those of events measured
    const years = new Set([periodWindow('1y', nowMs, offset).startMs]);
    for (const event of await this.drEvents.toMeasure(
      iso(nowMs - DR_MEASURE_AFTER_MS),
      iso(nowMs - DR_MEASURED_AGAIN_MS),
    )) {
      const startMs = Date.parse(event.startsAt);
      const earlier = (
        await this.drEvents.list({
          fromIso: new Date(startMs - (DR_LOOKBACK_DAYS + 1) * 86_400_000).toISOString(),
          toIso: event.startsAt,
        })
      ).filter((e) => e.id !== event.id);
      const measured = await measureDrEvent(this.influx, event, earlier, offset);
      const { result } = measured;
      await this.drEvents.recordResult(event.id, result, new Date(nowMs).toISOString());
      await writeDrMeasurement(this.influx, event, measured);
      years.add(periodWindow('1y', startMs, offset).startMs);
      for (const site of result.sites)
        this.live.emit({ type: 'dr_event', siteId: site.siteId, data: { id: event.id, result: site } });
      this.logger.log(
        {
          event: event.id,
          reducedKw: result.total.reducedKw,
          met: result.total.met,
          completeness: result.total.completeness,
        },
        'demand-response event measured',
      );
    }
    for (const startMs of years) {
      const year = periodWindow('1y', startMs, offset);
      const events = await this.drEvents.list({ fromIso: iso(year.startMs), toIso: iso(year.endMs) });
      await writePeakShaving(this.influx, events, year);
    }
  }

  /**
   * The periods whose declarations changed since the last run (every declared period at the first run of a process):
   * a declaration reaches the months and years it is for, however long ago they were (docs/domain.md, "Green power").
   */
  private async declarationChanges(
    utcOffsetMs: number,
  ): Promise<{ periods: { siteIds: string[]; fromMs: number; toMs: number }[]; seen: string | undefined }> {
    if (!this.declared) return { periods: [], seen: undefined };
    const changed = await this.declared.changedSince(this.declarationsSeen);
    const out: { siteIds: string[]; fromMs: number; toMs: number }[] = [];
    for (const { orgId, period } of changed) {
      const siteIds = this.registry.sites.filter((s) => s.emitter?.id === orgId).map((s) => s.id);
      const [year, month] = period.split('-').map(Number) as [number, number | undefined];
      const at = (y: number, m: number): number => Date.UTC(y, m, 1) - utcOffsetMs;
      if (siteIds.length > 0)
        out.push(
          month === undefined
            ? { siteIds, fromMs: at(year, 0), toMs: at(year + 1, 0) }
            : { siteIds, fromMs: at(year, month - 1), toMs: at(year, month) },
        );
    }
    return { periods: out, seen: changed.at(-1)?.updatedAt ?? this.declarationsSeen };
  }

  /**
   * Site KPIs from the readings (and, for every site, the district and city roll-ups of those windows; for a share of
   * the sites, their sums added to `rollups`).
   */
  private async writeSites(
    ranges: FixedRanges,
    utcOffsetMs: number,
    siteIds?: string[],
    rollups?: Map<FixedPeriod, AreaRollup>,
  ): Promise<void> {
    await writeKpiSeries({
      influx: this.influx,
      registry: this.registry,
      policy: this.policy,
      ranges,
      utcOffsetMs,
      ...(siteIds ? { siteIds } : {}),
      ...(rollups ? { rollups } : {}),
    });
    for (const siteId of siteIds ?? this.registry.sites.map((s) => s.id))
      for (const [period, range] of Object.entries(ranges))
        this.live.emit({
          type: 'kpi',
          siteId,
          data: {
            period,
            from: new Date(range.fromMs).toISOString(),
            to: new Date(range.toMs).toISOString(),
          },
        });
  }

  /** Months, years and rolling 12 months for the months of [fromMs, toMs), as of `nowMs` (projections). */
  private async writeCalendar(
    fromMs: number,
    toMs: number,
    nowMs: number,
    utcOffsetMs: number,
    siteIds: string[] | undefined,
    addArea: (period: KpiPeriod, windows: KpiWindowRange[]) => void,
    counts?: LateRecomputation['windows'],
    periods: readonly CalendarPeriod[] = CALENDAR_PERIODS,
  ): Promise<void> {
    await this.step('calendar', () =>
      writeCalendarKpis({
        influx: this.influx,
        registry: this.registry,
        fromMs,
        toMs,
        utcOffsetMs,
        asOfMs: nowMs,
        ...(siteIds ? { siteIds } : {}),
        factors: this.calendarFactors(nowMs),
        ...(this.declared ? { declarations: (periods) => this.declared!.forPeriods(periods) } : {}),
        // every site: their districts and city at once, from the values just combined
        areas: !siteIds,
        periods,
      }),
    );
    for (const period of periods) {
      const windows = windowsOf(period, fromMs, toMs, utcOffsetMs);
      if (siteIds) addArea(period, windows);
      if (counts) counts[period] = (counts[period] ?? 0) + windows.length;
    }
  }
}
