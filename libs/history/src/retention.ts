import type { AppConfig } from '@peakwatch/config';
import { CUMULATIVE_METRICS, MEASUREMENTS } from '@peakwatch/contracts';
import { floatField, intField, line, quoteString, stringField, type InfluxClient } from '@peakwatch/influx';
import { KpiWriter, bookQuarters, periodWindow, readMeterRows, utcOffsetMs } from '@peakwatch/metering';
import type { Registry, Site } from '@peakwatch/registry';
import { boundaryOf, reportPeriod } from '@peakwatch/reporting';
import type { Clock } from '@peakwatch/runtime';
import type { StateStore } from '@peakwatch/state';

/**
 * Telemetry retention (docs/retention.md). A meter's raw readings are kept RETENTION_RAW_DAYS after the end of their
 * month (reporting zone); then the month is down-sampled: its quarter hours as booked (energy per register metric,
 * estimated share, unknown deltas, the register at the quarter's last reading, readings received and their import
 * batches) and the first and last reading of each register, from which every KPI and report of the month and of the
 * periods around it is computed exactly as from the raw readings. The snapshots are kept RETENTION_SNAPSHOT_YEARS
 * after the month's end, then removed. A month is neither down-sampled nor removed while readings behind a submitted
 * report, a baseline year or an open alert lie in it; what falls due within RETENTION_WARN_DAYS is announced first.
 */

/** A meter's month (reporting zone) and when the retention job's next step for it falls due. */
export interface MeterMonth {
  siteId: string;
  deviceId: string;
  /** The month, `YYYY-MM`, and its span. */
  month: string;
  fromMs: number;
  toMs: number;
  /** `downsample` (raw readings to quarter snapshots) or `expire` (snapshots removed). */
  action: 'downsample' | 'expire';
  dueMs: number;
}

export interface RetentionPlan {
  atMs: number;
  /** Due now, not protected. */
  due: MeterMonth[];
  /** Due within RETENTION_WARN_DAYS, not protected: the operator's warning. */
  upcoming: MeterMonth[];
  /** Due, or due within the warning, but kept: and why. */
  kept: (MeterMonth & { reasons: string[] })[];
}

/** Why a site's months are kept: spans (ms) with their reason. */
type Protection = Map<string, { fromMs: number; toMs: number; reason: string }[]>;

const DAY_MS = 86_400_000;
/** state_info key: when the retention job first ran in this installation. */
const FIRST_RUN_KEY = 'retention_first_run';
/** How far before an open alert's start its site's readings are kept: the longest window a rule reads (a year). */
const ALERT_LOOKBACK_MS = 366 * DAY_MS;

export interface RetentionDeps {
  config: AppConfig;
  influx: InfluxClient;
  registry: Registry;
  state: StateStore;
  clock: Clock;
}

export class Retention {
  constructor(private readonly deps: RetentionDeps) {}

  private get settings(): AppConfig['retention'] {
    return this.deps.config.retention;
  }

  /** The months (reporting zone) from the one holding `fromMs` to the last ending at or before `untilMs`. */
  private months(fromMs: number, untilMs: number): { month: string; fromMs: number; toMs: number }[] {
    const zone = this.deps.config.tzReporting;
    const out: { month: string; fromMs: number; toMs: number }[] = [];
    for (
      let w = periodWindow('1mo', fromMs, utcOffsetMs(zone, fromMs));
      w.endMs <= untilMs;
      w = periodWindow('1mo', w.endMs, utcOffsetMs(zone, w.endMs))
    ) {
      const local = new Date(w.startMs + utcOffsetMs(zone, w.startMs));
      out.push({ month: local.toISOString().slice(0, 7), fromMs: w.startMs, toMs: w.endMs });
    }
    return out;
  }

  /** The end of the snapshot keeping period of a month starting at `fromMs`: years after the end of its year. */
  private snapshotDue(fromMs: number): number {
    const zone = this.deps.config.tzReporting;
    const end = new Date(periodWindow('1y', fromMs, utcOffsetMs(zone, fromMs)).endMs);
    end.setUTCFullYear(end.getUTCFullYear() + this.settings.snapshotYears);
    return end.getTime();
  }

  /** When the job first ran here (none yet: `atMs`): nothing is removed until RETENTION_WARN_DAYS after it. */
  private async firstRunMs(atMs: number, record: boolean): Promise<number> {
    const { db } = this.deps.state;
    if (record)
      await db
        .insertInto('state_info')
        .values({
          key: FIRST_RUN_KEY,
          value: new Date(atMs).toISOString(),
          updated_at: new Date(atMs).toISOString(),
        })
        .onConflict((oc) => oc.column('key').doNothing())
        .execute();
    const row = await db
      .selectFrom('state_info')
      .select('value')
      .where('key', '=', FIRST_RUN_KEY)
      .executeTakeFirst();
    return row ? Date.parse(row.value) : atMs;
  }

  /**
   * What is due now and within the warning, and what is kept, at `atMs`. Nothing falls due before RETENTION_WARN_DAYS
   * after the job's first run (`record`: the run that applies it records that first run).
   */
  async plan(atMs = this.deps.clock.now(), record = false): Promise<RetentionPlan> {
    const { influx, registry } = this.deps;
    const earliestMs = (await this.firstRunMs(atMs, record)) + this.settings.warnDays * DAY_MS;
    const horizon = atMs + this.settings.warnDays * DAY_MS;
    const rawDays = this.settings.rawDays * DAY_MS;
    const candidates: MeterMonth[] = [];
    // raw readings: each month from the oldest stored to the last that falls due within the warning
    const oldest = await influx.query(`SELECT * FROM ${MEASUREMENTS.telemetry} GROUP BY device LIMIT 1`);
    const firstMs = Math.min(...oldest.flatMap((s) => s.rows.map((r) => r['time'] as number)));
    if (Number.isFinite(firstMs))
      for (const m of this.months(firstMs, horizon - rawDays)) {
        const stored = await influx.query(
          `SELECT count(*) FROM ${MEASUREMENTS.telemetry} WHERE time >= ${m.fromMs}ms AND time < ${m.toMs}ms ` +
            'GROUP BY device',
        );
        for (const s of stored) {
          const found = registry.device(s.tags['device']!);
          if (found)
            candidates.push({
              siteId: found.site.id,
              deviceId: found.device.id,
              ...m,
              action: 'downsample',
              dueMs: m.toMs + rawDays,
            });
        }
      }
    // snapshots: every down-sampled month whose keeping period ends within the warning
    for (const s of await influx.query(
      `SELECT * FROM ${MEASUREMENTS.telemetryDownsampled} GROUP BY device`,
    )) {
      const found = registry.device(s.tags['device']!);
      if (!found) continue;
      for (const r of s.rows) {
        const fromMs = r['time'] as number;
        const dueMs = this.snapshotDue(fromMs);
        if (dueMs > horizon) continue;
        const [m] = this.months(fromMs, r['to_ms'] as number);
        candidates.push({ siteId: found.site.id, deviceId: found.device.id, ...m!, action: 'expire', dueMs });
      }
    }
    const protection = await this.protection(atMs);
    const plan: RetentionPlan = { atMs, due: [], upcoming: [], kept: [] };
    for (const c of candidates) {
      const reasons = (protection.get(c.siteId) ?? [])
        .filter((p) => p.fromMs < c.toMs && p.toMs > c.fromMs)
        .map((p) => p.reason);
      const due = { ...c, dueMs: Math.max(c.dueMs, earliestMs) };
      if (reasons.length > 0) plan.kept.push({ ...due, reasons: [...new Set(reasons)] });
      else (due.dueMs <= atMs ? plan.due : plan.upcoming).push(due);
    }
    return plan;
  }

  /**
   * The spans of each site's readings that are never removed: the periods of its organisation's submitted reports
   * (a version queued for or delivered to a receiver), its baseline year, and the year before an open alert's start.
   */
  private async protection(atMs: number): Promise<Protection> {
    const { registry, state, config } = this.deps;
    const out: Protection = new Map();
    const keep = (site: Site, fromMs: number, toMs: number, reason: string): void => {
      out.set(site.id, [...(out.get(site.id) ?? []), { fromMs, toMs, reason }]);
    };
    const submitted = await state.db
      .selectFrom('report')
      .select(['org_id', 'period'])
      .where('delivery_id', 'is not', null)
      .distinct()
      .execute();
    for (const { org_id: org, period } of submitted) {
      const span = reportPeriod(period, config.tzReporting);
      let sites: Site[] = [];
      try {
        sites = boundaryOf(registry, org);
      } catch {
        // an organisation no longer in the registry: its sites are not either
      }
      for (const site of sites) keep(site, span.fromMs, span.toMs, `report ${org} ${period} submitted`);
    }
    for (const site of registry.sites)
      if (site.baseline) {
        const span = reportPeriod(String(site.baseline.year), config.tzReporting);
        keep(site, span.fromMs, span.toMs, `baseline year ${site.baseline.year}`);
      }
    const open = await state.db
      .selectFrom('alert_state')
      .select(['rule_id', 'site_id', 'since'])
      .where('state', 'in', ['pending', 'firing'])
      .execute();
    for (const a of open) {
      const site = registry.site(a.site_id);
      const since = Date.parse(a.since);
      if (site && Number.isFinite(since))
        keep(site, since - ALERT_LOOKBACK_MS, atMs + DAY_MS, `alert ${a.rule_id} open since ${a.since}`);
    }
    return out;
  }

  /**
   * Applies what is due at `atMs`: each month down-sampled (snapshots and the month's record written, then its raw
   * readings deleted) or its snapshots removed. A run a crash cut short is finished by the next: a month whose record
   * is written but whose readings remain is down-sampled again to the same snapshots.
   */
  async run(
    atMs = this.deps.clock.now(),
    onMonth?: (done: number, total: number) => void,
  ): Promise<RetentionPlan> {
    const plan = await this.plan(atMs, true);
    for (const [i, m] of plan.due.entries()) {
      if (m.action === 'downsample') await this.downsample(m);
      else await this.expire(m);
      onMonth?.(i + 1, plan.due.length);
    }
    return plan;
  }

  /** A meter's month down-sampled: its snapshots, then its record, then its raw readings deleted. */
  private async downsample(m: MeterMonth): Promise<void> {
    const { influx, registry } = this.deps;
    const { site, device } = registry.device(m.deviceId)!;
    const [rows] = await readMeterRows(influx, [device], m.fromMs, m.toMs);
    const booked = bookQuarters(rows!, m.fromMs, m.toMs);
    const tags = {
      site: site.id,
      device: device.id,
      kind: device.kind,
      role: device.role,
      district: site.district,
    };
    const inMonth = rows!.readings
      .filter((r) => (r['time'] as number) >= m.fromMs && (r['time'] as number) < m.toMs)
      .sort((a, b) => (a['time'] as number) - (b['time'] as number));
    const quarterOf = (t: number): number => Math.floor(t / 900_000) * 900_000;
    const fields = new Map<number, Record<string, string>>();
    const at = (q: number): Record<string, string> => {
      let f = fields.get(q);
      if (!f) fields.set(q, (f = {}));
      return f;
    };
    for (const [q, n] of booked.readingsByQuarter) at(q)['readings'] = intField(n);
    for (const [q, batches] of booked.batchesByQuarter)
      at(q)['batches'] = stringField([...batches].sort().join(','));
    for (const [metric, quarters] of booked.quarters)
      for (const q of quarters) {
        if (q.startMs < m.fromMs || q.startMs >= m.toMs) continue;
        const f = at(q.startMs);
        if (q.energy !== null) f[`${metric}_energy`] = floatField(q.energy);
        f[`${metric}_estimated_energy`] = floatField(q.estimatedEnergy);
        f[`${metric}_estimated`] = String(q.estimated);
        f[`${metric}_unknown`] = intField(q.unknown);
      }
    // the register at each quarter's last reading (what a dashboard shows of the meter)
    for (const r of inMonth)
      for (const metric of CUMULATIVE_METRICS)
        if (typeof r[metric] === 'number') at(quarterOf(r['time'] as number))[metric] = floatField(r[metric]);
    const marker: Record<string, string> = {
      to_ms: intField(m.toMs),
      readings: intField(inMonth.length),
    };
    for (const metric of CUMULATIVE_METRICS) {
      const withMetric = inMonth.filter((r) => typeof r[metric] === 'number');
      for (const [end, r] of [
        ['first', withMetric[0]],
        ['last', withMetric.at(-1)],
      ] as const)
        if (r) {
          marker[`${end}_time_${metric}`] = intField(r['time'] as number);
          marker[`${end}_${metric}`] = floatField(r[metric] as number);
        }
    }
    const writer = new KpiWriter(influx);
    await writer.add(
      [...fields]
        .filter(([, f]) => Object.keys(f).length > 0)
        .map(([q, f]) => line(MEASUREMENTS.telemetryQuarter, tags, f, q)),
    );
    await writer.add([line(MEASUREMENTS.telemetryDownsampled, tags, marker, m.fromMs)]);
    await writer.close();
    await influx.command(
      `DELETE FROM ${MEASUREMENTS.telemetry} WHERE device = ${quoteString(device.id)} ` +
        `AND time >= ${m.fromMs}ms AND time < ${m.toMs}ms`,
    );
  }

  /** A down-sampled month's snapshots and record removed (its keeping period is over). */
  private async expire(m: MeterMonth): Promise<void> {
    const where = `WHERE device = ${quoteString(m.deviceId)} AND time >= ${m.fromMs}ms AND time < ${m.toMs}ms`;
    await this.deps.influx.command(`DELETE FROM ${MEASUREMENTS.telemetryQuarter} ${where}`);
    await this.deps.influx.command(`DELETE FROM ${MEASUREMENTS.telemetryDownsampled} ${where}`);
  }
}
