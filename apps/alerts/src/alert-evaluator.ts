import { join } from 'node:path';
import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { InjectConfig, type AppConfig } from '@peakwatch/config';
import { KPI_AGGREGATION, MIN_ELAPSED_SHARE, judgedSpan, pueTariffCny } from '@peakwatch/domain';
import { InfluxClient, floatField, line, quoteString, stringField } from '@peakwatch/influx';
import { PolicyData } from '@peakwatch/policy';
import { Registry, type Site } from '@peakwatch/registry';
import { Clock, LiveEvents, SingleRun } from '@peakwatch/runtime';
import { FIXED_PERIOD_MS, periodWindow, utcOffsetMs, type FixedPeriod } from '@peakwatch/metering';
import { StateStore, deliveryId, enqueue, type OutboxChannel, type StateSchema } from '@peakwatch/state';
import type { Transaction } from 'kysely';
import { MEASUREMENTS, alertTopic } from '@peakwatch/contracts';
import { recordAlertHistory } from '@peakwatch/state';
import type { AlertNotification } from './notification';
import { evaluate, ruleApplies } from './evaluation';
import { loadAlertRules, type AlertRule } from '@peakwatch/policy';
import { INACTIVE, step, type AlertInstance, type AlertState, type Observation } from './state-machine';

/** What a rule sees of one entity at one evaluation. */
interface Reading {
  entity: string;
  type: 'site' | 'device';
  name: string;
  site: Site;
  value: number | null;
  completeness?: number;
  window?: { period: string; startMs: number };
  /** Where the judged part of a window that began before monitoring of the site began starts (its first reading). */
  judgedFromMs?: number;
  expectedCostCny?: number;
}

type Tx = Transaction<StateSchema>;

/** How far back a silent device is looked for (ms): beyond it, silence counts from here. */
const SILENCE_LOOKBACK_MS = 2 * 86_400_000;
const YEAR_MS = 365 * 86_400_000;
/** How often every rule is evaluated (ms). */
export const EVALUATION_INTERVAL_MS = 60_000;
/** How long a site's first reading (the start of its monitoring) is remembered before it is read again (ms). */
const MONITORED_FROM_TTL_MS = 3_600_000;

/**
 * Evaluates the alert rules of seeds/alert-rules every minute against the kpi series and the telemetry, runs each
 * rule's state machine per entity, and on `firing` and `resolved` queues one notification per receiver in the
 * persistent outbox, in the same transaction as the state change (so a restart neither loses nor repeats one).
 * The data-quality gate: below a rule's minimum completeness its policy alert is held (state kept) and the site's
 * facility manager gets a data-quality alert `<rule>.data-quality` instead. Completeness is that of the part of the
 * window judged: what has elapsed of it since monitoring of the site began (its first reading; libs/domain
 * judgedSpan), so neither a new deployment nor a year under way lacks readings it could never have had. A gated rule
 * does not judge a window begun before monitoring until a tenth of it has been monitored (docs/domain.md,
 * "Completeness").
 */
@Injectable()
export class AlertEvaluator implements OnModuleInit {
  private readonly logger = new Logger('AlertEvaluator');
  rules: AlertRule[] = [];
  private readonly single = new SingleRun((error) =>
    this.logger.warn({ err: String(error) }, 'alert evaluation failed; retried next minute'),
  );
  /** Each site's first reading, and when it was read. */
  private readonly monitoredFrom = new Map<string, { ms: number; readAtMs: number }>();

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly influx: InfluxClient,
    private readonly registry: Registry,
    private readonly policy: PolicyData,
    private readonly state: StateStore,
    private readonly live: LiveEvents,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    // A broken rule file stops start-up, naming the file, rule and field.
    this.rules = loadAlertRules(join(this.config.seedsDir, 'alert-rules'), this.policy);
  }

  @Interval(EVALUATION_INTERVAL_MS)
  async tick(): Promise<void> {
    await this.single.run(() => this.runOnce(this.clock.now()));
  }

  /** Evaluates every rule in force at `nowMs`; returns the notifications queued. */
  async runOnce(nowMs: number): Promise<AlertNotification[]> {
    const queued: AlertNotification[] = [];
    const today = new Date(nowMs).toISOString().slice(0, 10);
    for (const rule of this.rules.filter((r) => !r.validFrom || r.validFrom <= today)) {
      const sites = this.registry.sites.filter((site) => ruleApplies(rule, site));
      if (sites.length === 0) continue;
      for (const reading of await this.read(rule, sites, nowMs)) {
        const { observation, dataQuality } = evaluate(rule, reading);
        queued.push(...(await this.apply(rule, reading, observation, nowMs)));
        if (dataQuality)
          queued.push(
            ...(await this.apply(
              dataQuality.rule,
              { ...reading, value: reading.completeness ?? null },
              dataQuality.observation,
              nowMs,
            )),
          );
      }
      queued.push(...(await this.escalate(rule, nowMs)));
    }
    return queued;
  }

  /** The value each entity shows the rule at `nowMs`. */
  private async read(rule: AlertRule, sites: Site[], nowMs: number): Promise<Reading[]> {
    const signal = rule.signal;
    if ('silence' in signal) {
      const out: Reading[] = [];
      for (const site of sites) {
        const series = await this.influx.query(
          `SELECT * FROM ${MEASUREMENTS.telemetry} WHERE site = ${quoteString(site.id)} AND time > ${nowMs - SILENCE_LOOKBACK_MS}ms AND time <= ${nowMs}ms GROUP BY device ORDER BY time DESC LIMIT 1`,
        );
        const last = new Map(series.map((s) => [s.tags['device']!, s.rows[0]?.['time'] as number]));
        for (const device of site.devices) {
          const lastMs = last.get(device.id) ?? nowMs - SILENCE_LOOKBACK_MS;
          out.push({
            entity: device.id,
            type: 'device',
            name: device.name ?? device.id,
            site,
            value: Math.floor((nowMs - lastMs) / 60_000),
          });
        }
      }
      return out;
    }
    const watched = 'kpi' in signal ? signal : signal.completeness;
    // 15m, 1h and 1d: the latest window that has ended (a partial day is neither complete nor comparable); months,
    // years and rolling 12 months: the latest that has started (the current one, to date)
    const before = nowMs - (FIXED_PERIOD_MS[watched.period as FixedPeriod] ?? 0);
    const series = await this.influx.query(
      `SELECT value, numerator, denominator, completeness, undeclared FROM ${MEASUREMENTS.kpi} WHERE scope = 'site' AND kpi = ${quoteString(watched.kpi)} AND period = ${quoteString(watched.period)} AND category = '' AND time <= ${before}ms AND time > ${before - 2 * YEAR_MS}ms GROUP BY entity ORDER BY time DESC LIMIT 1`,
    );
    const byEntity = new Map(series.map((s) => [s.tags['entity']!, s.rows[0]]));
    const monitoredFrom = await this.monitoringStarts(
      sites.filter((site) => byEntity.has(site.id)),
      nowMs,
    );
    // the other KPI of the same window, for a difference (a share behind its target): one query per window start
    // among the entities' latest (usually one), not one per entity
    const minus = 'kpi' in signal ? signal.minus : undefined;
    const others = new Map<string, Record<string, unknown>>();
    if (minus)
      for (const startMs of new Set([...byEntity.values()].map((row) => row!['time'] as number)))
        for (const other of await this.influx.query(
          `SELECT value FROM ${MEASUREMENTS.kpi} WHERE scope = 'site' AND kpi = ${quoteString(minus)} AND period = ${quoteString(watched.period)} AND category = '' AND time = ${startMs}ms GROUP BY entity`,
        )) {
          const entity = other.tags['entity']!;
          if (other.rows[0] && byEntity.get(entity)?.['time'] === startMs) others.set(entity, other.rows[0]);
        }
    return sites.map((site) => {
      const row = byEntity.get(site.id);
      const reading: Reading = { entity: site.id, type: 'site', name: site.name, site, value: null };
      if (!row) return reading;
      const startMs = row['time'] as number;
      reading.window = { period: watched.period, startMs };
      const span = judgedSpan({
        windowStartMs: startMs,
        windowEndMs: periodWindow(watched.period, startMs, utcOffsetMs(this.config.tzReporting, startMs))
          .endMs,
        nowMs,
        monitoredFromMs: monitoredFrom.get(site.id) ?? startMs,
        completeness: Number(row['completeness'] ?? 0),
      });
      // not judged: nothing of the window monitored yet, or too little of a window begun before monitoring for a
      // rule that needs its readings (neither the rule nor its data-quality alert can say anything true)
      if (!span || (span.fromMs > startMs && rule.minCompleteness > 0 && span.share < MIN_ELAPSED_SHARE))
        return reading;
      const completeness = span.completeness;
      reading.completeness = completeness;
      if (span.fromMs > startMs) reading.judgedFromMs = span.fromMs;
      if ('completeness' in signal) return { ...reading, value: completeness };
      // a renewable share with nothing renewable metered or declared is no share of 0 (docs/domain.md, "Green power")
      let value = typeof row['value'] === 'number' && row['undeclared'] !== true ? row['value'] : null;
      if (minus) {
        const other = others.get(site.id)?.['value'];
        value = value !== null && typeof other === 'number' ? value - other : null;
      }
      if ('kpi' in signal && signal.forecast && value !== null) {
        // year to date (since monitoring began, when later), projected: sums annualised, ratios (PUE, shares) as
        // they stand
        const elapsed = Math.max(86_400_000, nowMs - span.fromMs);
        const scale = YEAR_MS / elapsed;
        if (KPI_AGGREGATION[signal.kpi] === 'sum') value *= scale;
        if (rule.tariffRates && signal.kpi === 'pue')
          reading.expectedCostCny = pueTariffCny({
            facilityKwh: Number(row['numerator']) * scale,
            itKwh: Number(row['denominator']) * scale,
            limit: rule.thresholdValue,
            withinCnyPerKwh: rule.tariffRates.within,
            beyondCnyPerKwh: rule.tariffRates.beyond,
          });
      }
      return { ...reading, value };
    });
  }

  /**
   * When monitoring of each site began: its first stored reading (remembered for MONITORED_FROM_TTL_MS, as an import
   * of history may move it earlier). Sites without a reading are left out.
   */
  private async monitoringStarts(sites: readonly Site[], nowMs: number): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const site of sites) {
      let known = this.monitoredFrom.get(site.id);
      if (!known || nowMs - known.readAtMs > MONITORED_FROM_TTL_MS) {
        const [first] = await this.influx.query(
          `SELECT * FROM ${MEASUREMENTS.telemetry} WHERE site = ${quoteString(site.id)} LIMIT 1`,
        );
        const ms = first?.rows[0]?.['time'];
        if (typeof ms !== 'number') continue;
        this.monitoredFrom.set(site.id, (known = { ms, readAtMs: nowMs }));
      }
      out.set(site.id, known.ms);
    }
    return out;
  }

  /** Runs the state machine of one rule for one entity; persists it, its history and its notifications together. */
  private async apply(
    rule: AlertRule,
    reading: Reading,
    observation: Observation,
    nowMs: number,
  ): Promise<AlertNotification[]> {
    const at = new Date(nowMs).toISOString();
    const queued: AlertNotification[] = [];
    await this.state.db.transaction().execute(async (tx) => {
      const row = await tx
        .selectFrom('alert_state')
        .selectAll()
        .where('rule_id', '=', rule.id)
        .where('entity', '=', reading.entity)
        .executeTakeFirst();
      const current: AlertInstance = row
        ? { state: row.state as AlertState, sinceMs: Date.parse(row.since), episode: row.episode }
        : INACTIVE;
      const { next, notify } = step(current, observation, nowMs, rule.for);
      if (next === current) {
        if (row && observation.value !== null && row.value !== observation.value)
          await tx
            .updateTable('alert_state')
            .set({ value: observation.value })
            .where('rule_id', '=', rule.id)
            .where('entity', '=', reading.entity)
            .execute();
        return;
      }
      const values = {
        site_id: reading.site.id,
        state: next.state,
        since: new Date(next.sinceMs).toISOString(),
        episode: next.episode,
        value: observation.value,
        ...(notify === 'firing' ? { acked_at: null, acked_by: null, escalated_at: null } : {}),
      };
      await tx
        .insertInto('alert_state')
        .values({
          rule_id: rule.id,
          entity: reading.entity,
          acked_at: null,
          acked_by: null,
          escalated_at: null,
          ...values,
        })
        .onConflict((oc) => oc.columns(['rule_id', 'entity']).doUpdateSet(values))
        .execute();
      await recordAlertHistory(tx, {
        ruleId: rule.id,
        entity: reading.entity,
        siteId: reading.site.id,
        at,
        event: next.state,
        episode: next.episode,
        detail: {
          value: observation.value,
          threshold: rule.thresholdValue,
          completeness: reading.completeness,
        },
      });
      if (!notify) return;
      const firedAt =
        notify === 'firing' ? at : row ? await this.firedAt(tx, rule.id, reading.entity, next.episode) : at;
      for (const notification of this.notifications(rule, reading, notify, next.episode, at, firedAt))
        queued.push(await this.enqueue(tx, notification));
    });
    for (const notification of queued) await this.announce(notification, rule);
    return queued;
  }

  private async firedAt(
    tx: Tx,
    ruleId: string,
    entity: string,
    episode: number,
  ): Promise<string | undefined> {
    const fired = await tx
      .selectFrom('alert_history')
      .select('at')
      .where('rule_id', '=', ruleId)
      .where('entity', '=', entity)
      .where('episode', '=', episode)
      .where('event', '=', 'firing')
      .executeTakeFirst();
    return fired?.at;
  }

  private notifications(
    rule: AlertRule,
    reading: Reading,
    state: AlertNotification['state'],
    episode: number,
    at: string,
    firedAt: string | undefined,
    audiences: AlertRule['audience'] = rule.audience,
  ): AlertNotification[] {
    return audiences.map((audience) => ({
      rule: { id: rule.id, title: rule.title },
      severity: rule.severity,
      state,
      episode,
      entity: {
        type: reading.type,
        id: reading.entity,
        name: reading.name,
        siteId: reading.site.id,
        district: reading.site.district,
      },
      value: reading.value,
      threshold: rule.thresholdValue,
      comparison: rule.comparison,
      ...(reading.window
        ? { window: { period: reading.window.period, start: new Date(reading.window.startMs).toISOString() } }
        : {}),
      ...(reading.completeness !== undefined ? { completeness: reading.completeness } : {}),
      ...(reading.judgedFromMs !== undefined
        ? { judgedFrom: new Date(reading.judgedFromMs).toISOString() }
        : {}),
      at,
      ...(firedAt ? { firedAt } : {}),
      policySource: rule.policySource,
      ...(reading.expectedCostCny !== undefined
        ? { expectedCostCny: Math.round(reading.expectedCostCny) }
        : {}),
      audience,
    }));
  }

  /** One outbox row per webhook of the audience (and district), and one MQTT message per notification. */
  private async enqueue(tx: Tx, notification: AlertNotification): Promise<AlertNotification> {
    const now = this.clock.iso();
    const body = JSON.stringify(notification);
    const key = [
      notification.rule.id,
      notification.entity.id,
      notification.episode,
      notification.state,
      notification.audience,
    ];
    const targets: [OutboxChannel, string][] = this.config.alerts.webhooks
      .filter(
        (w) =>
          w.audience === notification.audience &&
          (!w.district || w.district === notification.entity.district),
      )
      .map((w): [OutboxChannel, string] => ['webhook', w.url]);
    for (const e of this.config.alerts.emails)
      if (
        e.audience === notification.audience &&
        (!e.district || e.district === notification.entity.district)
      )
        targets.push(['email', e.address]);
    targets.push(['mqtt', alertTopic(notification.entity.district, notification.entity.siteId)]);
    for (const [channel, target] of targets)
      await enqueue(tx, {
        deliveryId: deliveryId(...key, channel, target),
        channel,
        target,
        payload: body,
        at: now,
      });
    return notification;
  }

  /** Alert events go to InfluxDB (Grafana's annotations and table) and to the site's live stream. */
  private async announce(notification: AlertNotification, rule: AlertRule): Promise<void> {
    this.live.emit({ type: 'alert', siteId: notification.entity.siteId, data: notification });
    const writeApi = this.influx.createWriteApi({ flushInterval: 0, maxRetries: 0 });
    writeApi.writeRecord(
      line(
        MEASUREMENTS.alertEvent,
        {
          rule: rule.id,
          severity: rule.severity,
          state: notification.state,
          district: notification.entity.district,
          site: notification.entity.siteId,
        },
        {
          title: stringField(rule.title),
          ...(notification.value !== null ? { value: floatField(notification.value) } : {}),
          threshold: floatField(rule.thresholdValue),
        },
        Date.parse(notification.at),
      ),
    );
    await writeApi
      .close()
      .catch((error: unknown) =>
        this.logger.warn(
          { err: String(error) },
          'alert event not written to InfluxDB (the notification is queued)',
        ),
      );
  }

  /**
   * A firing alert unacknowledged for ALERT_ESCALATE_AFTER_MINUTES is escalated once (docs/contracts.md, "Alert
   * notifications"): to the district's regulator when the rule is one of the regulator's (a confirmed policy breach
   * the site has not answered), and otherwise back to the facility manager as a reminder: an early warning, a
   * forecast or a data-quality alert never reaches a regulator by escalation.
   */
  private async escalate(rule: AlertRule, nowMs: number): Promise<AlertNotification[]> {
    const due = new Date(nowMs - this.config.alerts.escalateAfterMs).toISOString();
    const rows = await this.state.db
      .selectFrom('alert_state')
      .selectAll()
      .where('rule_id', '=', rule.id)
      .where('state', '=', 'firing')
      .where('acked_at', 'is', null)
      .where('escalated_at', 'is', null)
      .where('since', '<=', due)
      .execute();
    const queued: AlertNotification[] = [];
    for (const row of rows) {
      const site = this.registry.site(row.site_id);
      if (!site) continue;
      const at = new Date(nowMs).toISOString();
      const reading: Reading = {
        entity: row.entity,
        type: row.entity === site.id ? 'site' : 'device',
        name: row.entity === site.id ? site.name : row.entity,
        site,
        value: row.value,
      };
      await this.state.db.transaction().execute(async (tx) => {
        await tx
          .updateTable('alert_state')
          .set({ escalated_at: at })
          .where('rule_id', '=', rule.id)
          .where('entity', '=', row.entity)
          .execute();
        await recordAlertHistory(tx, {
          ruleId: rule.id,
          entity: row.entity,
          siteId: site.id,
          at,
          event: 'escalated',
          episode: row.episode,
        });
        for (const n of this.notifications(
          rule,
          reading,
          'escalated',
          row.episode,
          at,
          row.since,
          escalationAudience(rule),
        ))
          queued.push(await this.enqueue(tx, n));
      });
    }
    return queued;
  }
}

/** Who hears of a firing alert left unacknowledged: the regulator for the regulator's rules, else the rule's audience. */
export function escalationAudience(rule: Pick<AlertRule, 'audience'>): AlertRule['audience'] {
  return rule.audience.includes('regulator') ? ['regulator'] : rule.audience;
}
