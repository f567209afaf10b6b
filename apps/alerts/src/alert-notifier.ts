import { Injectable, Logger } from '@nestjs/common';
import { InjectConfig, type AppConfig, type AudienceLanguages } from '@peakwatch/config';
import { MEASUREMENTS, alertTopic, incidentTitle } from '@peakwatch/contracts';
import { InfluxClient, floatField, intField, line, stringField } from '@peakwatch/influx';
import type { AlertRule } from '@peakwatch/policy';
import { Clock, LiveEvents } from '@peakwatch/runtime';
import { deliveryId, enqueue, type OutboxChannel, type StateSchema } from '@peakwatch/state';
import type { Transaction } from 'kysely';
import type { Reading } from './alert-reader';
import type { AlertNotification, IncidentNotification } from './notification';

type Tx = Transaction<StateSchema>;

/**
 * The notifications of one state change, one per audience (docs/contracts.md, "Alert notifications"): the rule's
 * audiences, or those an escalation reaches, each in its audience's language (ALERT_LANGUAGES).
 */
export function alertNotifications(
  rule: AlertRule,
  reading: Reading,
  state: AlertNotification['state'],
  episode: number,
  at: string,
  firedAt: string | undefined,
  languages: AudienceLanguages,
  audiences: AlertRule['audience'] = rule.audience,
): AlertNotification[] {
  return audiences.map((audience) => ({
    language: languages[audience],
    rule: { id: rule.id, title: rule.titles[languages[audience]] },
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

/** Who hears of a firing alert left unacknowledged: the regulator for the regulator's rules, else the rule's audience. */
export function escalationAudience(rule: Pick<AlertRule, 'audience'>): AlertRule['audience'] {
  return rule.audience.includes('regulator') ? ['regulator'] : rule.audience;
}

/** The webhooks and e-mail addresses of an audience, with the district a receiver is bound to. */
function receiversOf(
  receivers: Pick<AppConfig['alerts'], 'webhooks' | 'emails'>,
  audience: string,
): { channel: OutboxChannel; target: string; district: string | undefined }[] {
  return [
    ...receivers.webhooks
      .filter((w) => w.audience === audience)
      .map((w) => ({ channel: 'webhook' as const, target: w.url, district: w.district })),
    ...receivers.emails
      .filter((e) => e.audience === audience)
      .map((e) => ({ channel: 'email' as const, target: e.address, district: e.district })),
  ];
}

/**
 * Where a notification goes (docs/contracts.md, "Alert notifications"): each webhook and e-mail address of its audience
 * (and of its district, for a receiver bound to one), and the MQTT topic of its site.
 */
export function alertTargets(
  receivers: Pick<AppConfig['alerts'], 'webhooks' | 'emails'>,
  notification: Pick<AlertNotification, 'audience' | 'entity'>,
): [OutboxChannel, string][] {
  const { audience, entity } = notification;
  return [
    ...receiversOf(receivers, audience)
      .filter((r) => !r.district || r.district === entity.district)
      .map((r): [OutboxChannel, string] => [r.channel, r.target]),
    ['mqtt', alertTopic(entity.district, entity.siteId)],
  ];
}

/**
 * The alerts' notifier (docs/architecture.md): queues a notification for each of its receivers in the outbox, in the
 * caller's transaction (the one that changes the alert's state), and announces it once committed: to InfluxDB for
 * Grafana, and to the site's live stream.
 */
@Injectable()
export class AlertNotifier {
  private readonly logger = new Logger('AlertNotifier');

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly influx: InfluxClient,
    private readonly live: LiveEvents,
    private readonly clock: Clock,
  ) {}

  /** One outbox row per webhook of the audience (and district), and one MQTT message per notification. */
  async enqueue(tx: Tx, notification: AlertNotification): Promise<AlertNotification> {
    const now = this.clock.iso();
    const body = JSON.stringify(notification);
    const key = [
      notification.rule.id,
      notification.entity.id,
      notification.episode,
      notification.state,
      notification.audience,
    ];
    for (const [channel, target] of alertTargets(this.config.alerts, notification))
      await enqueue(tx, {
        deliveryId: deliveryId(...key, channel, target),
        channel,
        target,
        payload: body,
        at: now,
      });
    return notification;
  }

  /**
   * An incident's notification to each receiver of its audience (docs/contracts.md, "Incident notifications"): one
   * with every member to a receiver of no district, one with the members in its district to a receiver bound to one
   * (none there: nothing), and one per site with its members to the site's MQTT topic. Each once: returns whether
   * any target had not had it yet.
   */
  async enqueueIncident(tx: Tx, n: IncidentNotification): Promise<boolean> {
    const now = this.clock.iso();
    const targets: [OutboxChannel, string, IncidentNotification['members']][] = receiversOf(
      this.config.alerts,
      n.audience,
    ).map((r) => [
      r.channel,
      r.target,
      r.district ? n.members.filter((m) => m.entity.district === r.district) : n.members,
    ]);
    for (const site of new Set(n.members.map((m) => m.entity.siteId))) {
      const members = n.members.filter((m) => m.entity.siteId === site);
      targets.push(['mqtt', alertTopic(members[0]!.entity.district, site), members]);
    }
    let queued = false;
    for (const [channel, target, members] of targets)
      if (members.length > 0)
        queued =
          (await enqueue(tx, {
            deliveryId: deliveryId('incident', n.incident.id, n.state, n.audience, channel, target),
            channel,
            target,
            payload: JSON.stringify({ ...n, members }),
            at: now,
          })) || queued;
    return queued;
  }

  /**
   * An incident's change to InfluxDB (one point per site, for the dashboards) and to its sites' live streams; a failed
   * write is logged (the API and the state store have it).
   */
  async announceIncident(n: IncidentNotification, nowMs: number): Promise<void> {
    const sites = new Map<string, IncidentNotification['members']>();
    for (const m of n.members) sites.set(m.entity.siteId, [...(sites.get(m.entity.siteId) ?? []), m]);
    const lines: string[] = [];
    for (const [site, members] of sites) {
      this.live.emit({ type: 'incident', siteId: site, data: { ...n, members } });
      lines.push(
        line(
          MEASUREMENTS.incident,
          {
            incident: n.incident.id,
            kind: n.incident.kind,
            cause: n.incident.cause,
            district: members[0]!.entity.district,
            site,
          },
          {
            state: stringField(n.state === 'resolved' ? 'resolved' : 'open'),
            members: intField(members.length),
            title: stringField(incidentTitle('en', n.incident.kind, n.incident.cause)),
            title_zh: stringField(incidentTitle('zh-CN', n.incident.kind, n.incident.cause)),
          },
          nowMs,
        ),
      );
    }
    await this.write(lines, 'incident not written to InfluxDB (the state store has it)');
  }

  /**
   * The district standing of one evaluation (points of MEASUREMENTS.standing) to InfluxDB, for the district dashboard;
   * a failed write is logged (the next evaluation writes it again).
   */
  async standing(lines: readonly string[]): Promise<void> {
    await this.write(lines, 'district standing not written to InfluxDB');
  }

  /** Alert events go to InfluxDB (Grafana's annotations and table) and to the site's live stream. */
  async announce(notification: AlertNotification, rule: AlertRule): Promise<void> {
    this.live.emit({ type: 'alert', siteId: notification.entity.siteId, data: notification });
    await this.write(
      [
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
            title: stringField(rule.titles.en),
            title_zh: stringField(rule.titles['zh-CN']),
            ...(notification.value !== null ? { value: floatField(notification.value) } : {}),
            threshold: floatField(rule.thresholdValue),
          },
          Date.parse(notification.at),
        ),
      ],
      'alert event not written to InfluxDB (the notification is queued)',
    );
  }

  /** Writes points for the dashboards; a failed write is logged as `failed` (nothing depends on it but Grafana). */
  private async write(lines: readonly string[], failed: string): Promise<void> {
    if (lines.length === 0) return;
    const writeApi = this.influx.createWriteApi({ flushInterval: 0, maxRetries: 0 });
    writeApi.writeRecords([...lines]);
    await writeApi.close().catch((error: unknown) => this.logger.warn({ err: String(error) }, failed));
  }
}
