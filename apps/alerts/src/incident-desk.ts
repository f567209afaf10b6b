import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectConfig, type AppConfig } from '@peakwatch/config';
import { incidentTitle, type Language } from '@peakwatch/contracts';
import type { AlertRule } from '@peakwatch/policy';
import { Registry } from '@peakwatch/registry';
import {
  INGEST_HEARTBEAT_KEY,
  INGEST_HEARTBEAT_STALE_MS,
  StateStore,
  type StateSchema,
} from '@peakwatch/state';
import type { Transaction } from 'kysely';
import { AlertNotifier } from './alert-notifier';
import type { Reading } from './alert-reader';
import {
  causeKey,
  causesOf,
  decide,
  parseCause,
  platformCause,
  type CauseKey,
  type IncidentKind,
  type Outage,
  type PlatformComponent,
} from './incidents';
import type { AlertNotification, IncidentMember, IncidentNotification } from './notification';

type Tx = Transaction<StateSchema>;

/** How far back outages are read: further than any window still judged (a year, rolling 12 months). */
const OUTAGE_LOOKBACK_MS = 400 * 86_400_000;

/**
 * The incident desk (docs/incidents.md): routes the notifications of data-quality alerts through incidents, so that
 * alerts of one cause are told once per audience instead of once per alert. At a state change (in the evaluator's
 * transaction) a data-quality firing is held with its causes; at the end of each evaluation (`settle`) the held ones
 * are decided (incidents.ts `decide`: joined to an open incident, grouped into a new one, or told alone), and the
 * incidents whose cause is over are resolved. Other alerts pass through untouched.
 */
@Injectable()
export class IncidentDesk {
  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly registry: Registry,
    private readonly state: StateStore,
    private readonly notifier: AlertNotifier,
  ) {}

  /**
   * PeakWatch's outages that may explain a gap at `nowMs`: those recorded by its processes (platform_outage), and
   * ingest not running when its heartbeat has stopped.
   */
  async outages(nowMs: number): Promise<Outage[]> {
    const rows = await this.state.db
      .selectFrom('platform_outage')
      .selectAll()
      .where('started_at', '<=', new Date(nowMs).toISOString())
      .where((eb) =>
        eb.or([
          eb('ended_at', 'is', null),
          eb('ended_at', '>=', new Date(nowMs - OUTAGE_LOOKBACK_MS).toISOString()),
        ]),
      )
      .execute();
    const outages: Outage[] = rows.map((r) => ({
      component: r.component as PlatformComponent,
      startMs: Date.parse(r.started_at),
      endMs: r.ended_at === null ? null : Date.parse(r.ended_at),
    }));
    const beat = await this.state.info(INGEST_HEARTBEAT_KEY);
    if (beat !== undefined && nowMs - Date.parse(beat) > INGEST_HEARTBEAT_STALE_MS)
      outages.push({ component: 'ingest', startMs: Date.parse(beat), endMs: null });
    return outages;
  }

  /**
   * Of the notifications of one state change (one per audience), those to queue now: all of them for an alert that is
   * not a data-quality alert; none for a data-quality alert, whose firing is held or joins an open incident of its
   * cause, and whose later changes follow it (kept with the held alert, or told by its incident).
   */
  async route(
    tx: Tx,
    rule: AlertRule,
    reading: Reading,
    notifications: AlertNotification[],
    outages: readonly Outage[],
    nowMs: number,
  ): Promise<AlertNotification[]> {
    if (!rule.dataQuality || notifications.length === 0) return notifications;
    const { state: notify, episode } = notifications[0]!;
    const key = { rule_id: rule.id, entity: reading.entity, episode };
    const at = new Date(nowMs).toISOString();
    const member = await tx
      .selectFrom('incident_member')
      .select('incident_id')
      .where((eb) => eb.and(key))
      .executeTakeFirst();
    if (member) {
      if (notify === 'resolved')
        await tx
          .updateTable('incident_member')
          .set({ resolved_at: at })
          .where((eb) => eb.and(key))
          .execute();
      return [];
    }
    const held = await tx
      .selectFrom('alert_hold')
      .select('notifications')
      .where((eb) => eb.and(key))
      .executeTakeFirst();
    if (held) {
      await tx
        .updateTable('alert_hold')
        .set({ notifications: JSON.stringify([...parseList(held.notifications), ...notifications]) })
        .where((eb) => eb.and(key))
        .execute();
      return [];
    }
    if (notify !== 'firing') return notifications;
    const gateway =
      reading.type === 'device' ? this.registry.device(reading.entity)?.device.gateway : undefined;
    const causes = causesOf(reading.site, gateway, platformCause(rule, reading, outages, nowMs));
    await tx
      .insertInto('alert_hold')
      .values({
        ...key,
        site_id: reading.site.id,
        held_at: at,
        causes: JSON.stringify(causes),
        notifications: JSON.stringify(notifications),
      })
      .execute();
    return [];
  }

  /**
   * After an evaluation: decides the held alerts (joined, grouped into new incidents, or told alone), then closes the
   * incidents whose cause is over (`closeOver`). Returns what it queued.
   */
  async settle(nowMs: number): Promise<(AlertNotification | IncidentNotification)[]> {
    const at = new Date(nowMs).toISOString();
    const queued: (AlertNotification | IncidentNotification)[] = [];
    const changed = new Set<string>();
    await this.state.db.transaction().execute(async (tx) => {
      const holds = await tx.selectFrom('alert_hold').selectAll().execute();
      const open = await tx.selectFrom('incident').selectAll().where('resolved_at', 'is', null).execute();
      const openByCause = new Map(open.map((i) => [causeKey(i.kind as IncidentKind, i.cause), i]));
      const holdKey = (h: (typeof holds)[number]): string => `${h.rule_id}\n${h.entity}\n${h.episode}`;
      const byKey = new Map(holds.map((h) => [holdKey(h), h]));
      const decision = decide(
        holds.map((h) => ({
          key: holdKey(h),
          siteId: h.site_id,
          heldAtMs: Date.parse(h.held_at),
          causes: JSON.parse(h.causes) as CauseKey[],
        })),
        new Set(openByCause.keys()),
        nowMs,
        this.config.alerts.incidents,
      );
      const join = async (incidentId: string, key: string): Promise<void> => {
        const h = byKey.get(key)!;
        const told = parseList(h.notifications);
        await tx
          .insertInto('incident_member')
          .values({
            rule_id: h.rule_id,
            entity: h.entity,
            episode: h.episode,
            incident_id: incidentId,
            site_id: h.site_id,
            fired_at: h.held_at,
            // resolved while held: resolved in the incident too, when it did
            resolved_at: told.find((n) => n.state === 'resolved')?.at ?? null,
            notifications: h.notifications,
          })
          .execute();
        await deleteHold(tx, h);
        changed.add(incidentId);
      };
      for (const { key, cause } of decision.join) await join(openByCause.get(cause)!.id, key);
      // an open incident told again as opened: only the receivers and sites its new members bring hear of it (the
      // others have that delivery already), so a district or a site never hears of its resolution first
      for (const incident of open.filter((i) => changed.has(i.id)))
        queued.push(...(await this.tell(tx, incident.id, 'opened', incident.opened_at)));
      for (const { cause, members } of decision.open) {
        const { kind, id } = parseCause(cause);
        const incidentId = randomUUID();
        await tx.insertInto('incident').values({ id: incidentId, kind, cause: id, opened_at: at }).execute();
        for (const key of members) await join(incidentId, key);
        queued.push(...(await this.tell(tx, incidentId, 'opened', at)));
      }
      for (const key of decision.release) {
        const h = byKey.get(key)!;
        for (const n of parseList(h.notifications)) queued.push(await this.notifier.enqueue(tx, n));
        await deleteHold(tx, h);
      }
      queued.push(...(await this.closeOver(tx, at, changed)));
    });
    for (const id of changed)
      await this.notifier.announceIncident(
        await this.view(id, this.config.alerts.languages.facility_manager),
        nowMs,
      );
    return queued;
  }

  /**
   * Closes the incidents whose cause is over (docs/incidents.md, "Resolution"). A member whose alert is no longer
   * firing in its episode (reset, its entity or rule gone) counts as resolved. Once at least half of an incident's
   * members have resolved, the cause is over: the members still firing leave it and are told by themselves (a meter
   * that stays silent after its gateway or PeakWatch came back has failed on its own, and is escalated as any alert),
   * and the incident resolves.
   */
  private async closeOver(
    tx: Tx,
    at: string,
    changed: Set<string>,
  ): Promise<(AlertNotification | IncidentNotification)[]> {
    const queued: (AlertNotification | IncidentNotification)[] = [];
    for (const incident of await tx
      .selectFrom('incident')
      .select('id')
      .where('resolved_at', 'is', null)
      .execute()) {
      const members = await membersOf(tx, incident.id);
      // the members' alerts as they stand, in one query
      const firingNow = new Set(
        (
          await tx
            .selectFrom('incident_member')
            .innerJoin('alert_state', (join) =>
              join
                .onRef('alert_state.rule_id', '=', 'incident_member.rule_id')
                .onRef('alert_state.entity', '=', 'incident_member.entity')
                .onRef('alert_state.episode', '=', 'incident_member.episode'),
            )
            .select(['incident_member.rule_id', 'incident_member.entity'])
            .where('incident_member.incident_id', '=', incident.id)
            .where('alert_state.state', '=', 'firing')
            .execute()
        ).map((r) => `${r.rule_id}\n${r.entity}`),
      );
      for (const m of members.filter((m) => m.resolved_at === null)) {
        if (firingNow.has(`${m.rule_id}\n${m.entity}`)) continue;
        m.resolved_at = at;
        await tx
          .updateTable('incident_member')
          .set({ resolved_at: at })
          .where((eb) => eb.and(memberKey(m)))
          .execute();
      }
      const firing = members.filter((m) => m.resolved_at === null);
      if (firing.length > 0 && firing.length * 2 > members.length) continue;
      for (const m of firing) {
        await tx
          .deleteFrom('incident_member')
          .where((eb) => eb.and(memberKey(m)))
          .execute();
        for (const n of parseList(m.notifications)) queued.push(await this.notifier.enqueue(tx, n));
      }
      await tx.updateTable('incident').set({ resolved_at: at }).where('id', '=', incident.id).execute();
      queued.push(...(await this.tell(tx, incident.id, 'resolved', at)));
      changed.add(incident.id);
    }
    return queued;
  }

  /**
   * Queues an incident's notification to each audience its members are told to, but never to a regulator; returns
   * those that reached a receiver or site that did not have it yet.
   */
  private async tell(
    tx: Tx,
    incidentId: string,
    state: IncidentNotification['state'],
    at: string,
  ): Promise<IncidentNotification[]> {
    const members = await membersOf(tx, incidentId);
    const audiences = new Set(
      members
        .flatMap((m) => parseList(m.notifications).map((n) => n.audience))
        .filter((a) => a !== 'regulator'),
    );
    const queued: IncidentNotification[] = [];
    for (const audience of audiences) {
      const n = await this.view(incidentId, this.config.alerts.languages[audience], tx, audience);
      const told = { ...n, state, at, audience };
      if (await this.notifier.enqueueIncident(tx, told)) queued.push(told);
    }
    return queued;
  }

  /** An incident as its notifications, the API and the dashboards show it, in `language`, for `audience`. */
  async view(
    incidentId: string,
    language: Language,
    tx: Tx | StateStore['db'] = this.state.db,
    audience: IncidentNotification['audience'] = 'facility_manager',
  ): Promise<IncidentNotification> {
    const incident = await tx
      .selectFrom('incident')
      .selectAll()
      .where('id', '=', incidentId)
      .executeTakeFirstOrThrow();
    const members = await membersOf(tx, incidentId);
    const platform = incident.kind === 'platform';
    return {
      type: 'incident',
      language,
      incident: {
        id: incident.id,
        kind: incident.kind as IncidentNotification['incident']['kind'],
        cause: incident.cause,
        title: incidentTitle(language, incident.kind, incident.cause),
        platform,
      },
      state: incident.resolved_at ? 'resolved' : 'opened',
      openedAt: incident.opened_at,
      ...(incident.resolved_at ? { resolvedAt: incident.resolved_at } : {}),
      at: incident.resolved_at ?? incident.opened_at,
      members: members.map((m): IncidentMember => {
        const told = parseList(m.notifications);
        const first = told.find((n) => n.audience === audience) ?? told[0]!;
        return {
          rule: { id: first.rule.id, title: first.rule.title },
          entity: first.entity,
          firedAt: m.fired_at,
          ...(m.resolved_at ? { resolvedAt: m.resolved_at } : {}),
        };
      }),
      audience,
    };
  }
}

function parseList(json: string): AlertNotification[] {
  return JSON.parse(json) as AlertNotification[];
}

function membersOf(tx: Tx | StateStore['db'], incidentId: string): Promise<StateSchema['incident_member'][]> {
  return tx
    .selectFrom('incident_member')
    .selectAll()
    .where('incident_id', '=', incidentId)
    .orderBy('fired_at')
    .orderBy('entity')
    .execute();
}

function memberKey(m: { rule_id: string; entity: string; episode: number }) {
  return { rule_id: m.rule_id, entity: m.entity, episode: m.episode };
}

async function deleteHold(tx: Tx, h: { rule_id: string; entity: string; episode: number }): Promise<void> {
  const { rule_id, entity, episode } = h;
  await tx
    .deleteFrom('alert_hold')
    .where((eb) => eb.and({ rule_id, entity, episode }))
    .execute();
}
