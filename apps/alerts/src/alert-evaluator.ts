import { join } from 'node:path';
import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { InjectConfig, type AppConfig } from '@peakwatch/config';
import { MEASUREMENTS } from '@peakwatch/contracts';
import { floatField, line, stringField } from '@peakwatch/influx';
import { PolicyData, loadAlertRules, marginOf, type AlertRule } from '@peakwatch/policy';
import { Registry } from '@peakwatch/registry';
import { Clock, SingleRun } from '@peakwatch/runtime';
import { JobLeases, StateStore, recordAlertHistory, slotOf, type StateSchema } from '@peakwatch/state';
import type { Transaction } from 'kysely';
import { AlertNotifier, alertNotifications, escalationAudience } from './alert-notifier';
import { AlertReader, type Reading } from './alert-reader';
import { evaluate, ruleApplies } from './evaluation';
import { IncidentDesk } from './incident-desk';
import type { Outage } from './incidents';
import type { AlertNotification, IncidentNotification } from './notification';
import { INACTIVE, step, type AlertInstance, type AlertState, type Observation } from './state-machine';

type Tx = Transaction<StateSchema>;

/** How often every rule is evaluated (ms). */
export const EVALUATION_INTERVAL_MS = 60_000;

/**
 * Evaluates the alert rules of seeds/alert-rules every minute against the kpi series and the telemetry, runs each
 * rule's state machine per entity, and on `firing` and `resolved` queues one notification per receiver in the
 * persistent outbox, in the same transaction as the state change (so a restart neither loses nor repeats one).
 * The data-quality gate: below a rule's minimum completeness its policy alert is held (state kept) and the site's
 * facility manager gets a data-quality alert `<rule>.data-quality` instead. Three steps (docs/architecture.md): the
 * reader (alert-reader.ts) reads what each entity shows, the pure evaluation (evaluation.ts) judges it, and this
 * class persists the state and its history and has the notifier (alert-notifier.ts) queue and announce.
 */
@Injectable()
export class AlertEvaluator implements OnModuleInit {
  private readonly logger = new Logger('AlertEvaluator');
  rules: AlertRule[] = [];
  /** Which standing points are worth writing (StandingWrites): not the same one every minute. */
  private readonly standingWrites = new StandingWrites();
  private readonly single = new SingleRun((error) =>
    this.logger.warn({ err: String(error) }, 'alert evaluation failed; retried next minute'),
  );

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly registry: Registry,
    private readonly policy: PolicyData,
    private readonly state: StateStore,
    private readonly clock: Clock,
    private readonly reader: AlertReader,
    private readonly notifier: AlertNotifier,
    private readonly leases: JobLeases,
    private readonly desk: IncidentDesk,
  ) {}

  onModuleInit(): void {
    // A broken rule file stops start-up, naming the file, rule and field.
    this.rules = loadAlertRules(join(this.config.seedsDir, 'alert-rules'), this.policy);
  }

  /**
   * Every minute; with replicas sharing a PostgreSQL state store, the minute's evaluation is leased to one of them
   * (docs/deployment.md, "Replicas").
   */
  @Interval(EVALUATION_INTERVAL_MS)
  async tick(): Promise<void> {
    await this.single.run(async () => {
      const nowMs = this.clock.now();
      if (!this.leases.shared) return this.runOnce(nowMs);
      await this.leases.runParts(
        'alerts',
        slotOf(nowMs, EVALUATION_INTERVAL_MS),
        ['all'],
        () => this.runOnce(this.clock.now()),
        nowMs + EVALUATION_INTERVAL_MS,
      );
    });
  }

  /**
   * Evaluates every rule in force at `nowMs`, then settles the incidents (incident-desk.ts); returns the notifications
   * queued.
   */
  async runOnce(nowMs: number): Promise<(AlertNotification | IncidentNotification)[]> {
    const queued: (AlertNotification | IncidentNotification)[] = [];
    const standing: string[] = [];
    const outages = await this.desk.outages(nowMs);
    const today = new Date(nowMs).toISOString().slice(0, 10);
    for (const rule of this.rules.filter((r) => !r.validFrom || r.validFrom <= today)) {
      const sites = this.registry.sites.filter((site) => ruleApplies(rule, site));
      if (sites.length === 0) continue;
      for (const reading of await this.reader.read(rule, sites, nowMs)) {
        const { observation, dataQuality } = evaluate(rule, reading);
        const { notifications, state } = await this.apply(rule, reading, observation, nowMs, outages);
        queued.push(...notifications);
        // a site against a threshold regulators are told of: its district's standing
        if (rule.audience.includes('regulator') && reading.type === 'site') {
          const point = standingLine(rule, reading, observation.value, state, nowMs);
          if (this.standingWrites.due(`${reading.site.id} ${rule.id}`, point, nowMs)) standing.push(point);
        }
        if (dataQuality)
          queued.push(
            ...(
              await this.apply(
                dataQuality.rule,
                { ...reading, value: reading.completeness ?? null },
                dataQuality.observation,
                nowMs,
                outages,
              )
            ).notifications,
          );
      }
      queued.push(...(await this.escalate(rule, nowMs)));
    }
    await this.notifier.standing(standing);
    queued.push(...(await this.desk.settle(nowMs)));
    return queued;
  }

  /**
   * Runs the state machine of one rule for one entity; persists it, its history and its notifications together (a
   * data-quality alert's through the incident desk). Returns the notifications queued and the state it is in.
   */
  private async apply(
    rule: AlertRule,
    reading: Reading,
    observation: Observation,
    nowMs: number,
    outages: readonly Outage[],
  ): Promise<{ notifications: AlertNotification[]; state: AlertState }> {
    const at = new Date(nowMs).toISOString();
    const queued: AlertNotification[] = [];
    const announced: AlertNotification[] = [];
    let state: AlertState = INACTIVE.state;
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
      state = next.state;
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
      const notifications = alertNotifications(
        rule,
        reading,
        notify,
        next.episode,
        at,
        firedAt,
        this.config.alerts.languages,
      );
      for (const notification of await this.desk.route(tx, rule, reading, notifications, outages, nowMs))
        queued.push(await this.notifier.enqueue(tx, notification));
      announced.push(...notifications);
    });
    // Grafana's annotations and the site's stream hear of every change, told to receivers or held for an incident
    for (const notification of announced) await this.notifier.announce(notification, rule);
    return { notifications: queued, state };
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
      // an incident's member is the incident's, and a held alert has not been told yet: neither is escalated
      .where((eb) =>
        eb.not(
          eb.or(
            (['incident_member', 'alert_hold'] as const).map((table) =>
              eb.exists(
                eb
                  .selectFrom(table)
                  .select(`${table}.entity`)
                  .whereRef(`${table}.rule_id`, '=', 'alert_state.rule_id')
                  .whereRef(`${table}.entity`, '=', 'alert_state.entity')
                  .whereRef(`${table}.episode`, '=', 'alert_state.episode'),
              ),
            ),
          ),
        ),
      )
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
        for (const n of alertNotifications(
          rule,
          reading,
          'escalated',
          row.episode,
          at,
          row.since,
          this.config.alerts.languages,
          escalationAudience(rule),
        ))
          queued.push(await this.notifier.enqueue(tx, n));
      });
    }
    return queued;
  }
}

/**
 * A site against a regulator's rule as an evaluation judged it: a point of the district standing (docs/contracts.md,
 * "District standing"). `value` is none when the data-quality gate held it.
 */
export function standingLine(
  rule: AlertRule,
  reading: Reading,
  value: number | null,
  state: AlertState,
  nowMs: number,
): string {
  const margin = marginOf(rule, value);
  return line(
    MEASUREMENTS.standing,
    { district: reading.site.district, site: reading.site.id, rule: rule.id },
    {
      title: stringField(rule.titles.en),
      title_zh: stringField(rule.titles['zh-CN']),
      threshold: floatField(rule.thresholdValue),
      state: stringField(state),
      ...(value !== null ? { value: floatField(value) } : {}),
      ...(margin !== null ? { margin: floatField(margin) } : {}),
      ...(reading.completeness !== undefined ? { completeness: floatField(reading.completeness) } : {}),
    },
    nowMs,
  );
}

/** How often a site's unchanged standing against a rule is written again: the dashboard finds it in any range. */
export const STANDING_REFRESH_MS = 3_600_000;

/**
 * Which standing points to write: one when the judgement (value, margin, completeness, state) changed since the
 * last one written for the site and rule, else once an hour (STANDING_REFRESH_MS), not at every minute's evaluation.
 * Kept in memory: a restart or another replica writes once more, which does no harm.
 */
export class StandingWrites {
  private readonly last = new Map<string, { fields: string; atMs: number }>();

  /** Whether `point` (line protocol) for `key` is to be written at `nowMs`; if so, remembers it. */
  due(key: string, point: string, nowMs: number): boolean {
    const fields = point.slice(0, point.lastIndexOf(' '));
    const last = this.last.get(key);
    if (last && last.fields === fields && nowMs - last.atMs < STANDING_REFRESH_MS) return false;
    this.last.set(key, { fields, atMs: nowMs });
    return true;
  }
}
