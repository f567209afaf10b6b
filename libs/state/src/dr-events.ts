import { randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import { z } from 'zod';
import { ID_CHARS, ID_PATTERN, drAnnouncementTopic } from '@peakwatch/contracts';
import type { Registry } from '@peakwatch/registry';
import { deliveryId, enqueue, type OutboxChannel } from './outbox';
import type { StateSchema } from './state.schema';
import type { StateStore } from './state-store';

const QUARTER_MS = 900_000;
/** The longest event accepted. */
const MAX_EVENT_MS = 24 * 3_600_000;

const id = z.string().regex(ID_PATTERN, `must match ${ID_CHARS}`);
/** An instant with its offset, on a quarter hour (an event is measured quarter by quarter). */
const quarterInstant = z
  .string()
  .datetime({ offset: true, message: 'expected an ISO 8601 date-time with its offset' })
  .refine(
    (s) => Date.parse(s) % QUARTER_MS === 0,
    'must be on a quarter hour (00, 15, 30 or 45 minutes, 0 seconds)',
  );

/**
 * A request for a demand-response event, through the API or MQTT (docs/contracts.md, "Demand-response events"): every
 * site of a district, or listed sites of one district; its quarter hours; the reduction asked of the sites together;
 * why. `requestId` (the requester's own id of it) makes a request sent twice one event.
 */
export const drEventRequestSchema = z
  .object({
    requestId: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'must be 1-128 letters, digits or . _ : -')
      .optional(),
    district: id.optional(),
    sites: z.array(id).min(1).max(1000).optional(),
    startsAt: quarterInstant,
    endsAt: quarterInstant,
    requestedKw: z.number().positive().max(10_000_000),
    reason: z.string().trim().min(1).max(500),
  })
  .strict()
  .refine((b) => (b.district === undefined) !== (b.sites === undefined), {
    message: 'give either district or sites',
    path: ['sites'],
  })
  .refine((b) => Date.parse(b.endsAt) > Date.parse(b.startsAt), {
    message: 'must be after startsAt',
    path: ['endsAt'],
  })
  .refine((b) => Date.parse(b.endsAt) - Date.parse(b.startsAt) <= MAX_EVENT_MS, {
    message: 'an event lasts 24 hours at most',
    path: ['endsAt'],
  });
export type DrEventRequest = z.infer<typeof drEventRequestSchema>;

/** Who asks for an event: recorded as its actor, and the sites it may name. */
export interface DrRequester {
  actor: string;
  role: string;
  sites: ReadonlySet<string>;
  /** Where its request ids are its own (an API key, a district's operators): two requesters may use the same id. */
  namespace: string;
}

/** Where announcements go beside MQTT: the facility managers' webhooks and e-mail addresses (ALERT_WEBHOOKS, …). */
export interface DrReceivers {
  webhooks: readonly { audience: string; district?: string; url: string }[];
  emails: readonly { audience: string; district?: string; address: string }[];
}

/** A request refused: 400 naming the field at fault, or 409 with the events it overlaps. */
export interface DrRefusal {
  status: 400 | 409;
  field: string;
  problem: string;
  overlaps?: string[];
}

/** What an announcement says (webhook, e-mail, MQTT, stream; docs/contracts.md, "Demand-response events"). */
export interface DrAnnouncement {
  kind: 'dr_event';
  id: string;
  district: string;
  siteId: string;
  startsAt: string;
  endsAt: string;
  /** The reduction asked of all the event's sites together. */
  requestedKw: number;
  sites: number;
  reason: string;
  at: string;
}

/** A demand-response event (docs/domain.md, "Demand response"). */
export interface DrEvent {
  id: string;
  district: string;
  siteIds: string[];
  startsAt: string;
  endsAt: string;
  requestedKw: number;
  reason: string;
  actor: string;
  role: string;
  createdAt: string;
  result?: DrEventResult;
  measuredAt?: string;
}

/** One site's measured response (libs/domain demand-response.ts). */
export interface DrSiteResult {
  siteId: string;
  /** Its share of the request, by its baseline. */
  requestedKw: number;
  reducedKw: number | null;
  shiftedKwh: number;
  baselineKw: number | null;
  actualKw: number | null;
  /** Whether it reduced its share; null when nothing was measured. */
  met: boolean | null;
  completeness: number;
  /** The same-day adjustment factor applied to its baseline. */
  adjustment: number;
  /** The local dates of the working days its baseline averages. */
  baselineDays: string[];
}

/** An event's measured response: per site, and in total (the sites' sums; completeness their mean). */
export interface DrEventResult {
  sites: DrSiteResult[];
  total: Omit<DrSiteResult, 'siteId' | 'adjustment' | 'baselineDays'>;
}

type Row = Selectable<StateSchema['dr_event']>;

const eventOf = (r: Row): DrEvent => ({
  id: r.id,
  district: r.district,
  siteIds: JSON.parse(r.sites) as string[],
  startsAt: r.starts_at,
  endsAt: r.ends_at,
  requestedKw: Number(r.requested_kw),
  reason: r.reason,
  actor: r.actor,
  role: r.role,
  createdAt: r.created_at,
  ...(r.result === null ? {} : { result: JSON.parse(r.result) as DrEventResult }),
  ...(r.measured_at === null ? {} : { measuredAt: r.measured_at }),
});

/** Demand-response events in the state store. */
export class DrEvents {
  constructor(private readonly state: StateStore) {}

  /**
   * Checks a request against the registry, the requester's sites and the clock, and stores its event unless another
   * event of one of its sites overlaps it; in the same transaction its announcements are queued for the facility
   * managers' receivers and the sites' MQTT topics, so that an event is announced exactly when stored. A request whose
   * event exists already (the same `requestId` again) gives that event, `created` false, and is not announced again.
   */
  async submit(
    input: DrEventRequest,
    {
      requester,
      registry,
      receivers,
      nowMs,
    }: { requester: DrRequester; registry: Registry; receivers: DrReceivers; nowMs: number },
  ): Promise<{ event: DrEvent; announcements: DrAnnouncement[]; created: boolean } | { refusal: DrRefusal }> {
    const bad = (field: string, problem: string) => ({ refusal: { status: 400 as const, field, problem } });
    const eventId =
      input.requestId === undefined
        ? `dr-${randomUUID()}`
        : `dr-${deliveryId('dr_event', requester.namespace, input.requestId)}`;
    const existing = await this.get(eventId);
    if (existing) return { event: existing, announcements: [], created: false };
    if (Date.parse(input.startsAt) < nowMs) return bad('startsAt', 'an event cannot start in the past');
    let siteIds: string[];
    if (input.district !== undefined) {
      const district = input.district;
      siteIds = registry.sites
        .filter((s) => s.district === district && requester.sites.has(s.id))
        .map((s) => s.id);
      // a district outside a requester's scope is as unknown as one without sites
      if (siteIds.length === 0) return bad('district', 'no site of yours in this district');
    } else {
      const listed = input.sites ?? [];
      const unknown = listed.findIndex((s) => !requester.sites.has(s));
      if (unknown >= 0) return bad(`sites.${unknown}`, 'unknown site, or not one of yours');
      siteIds = [...new Set(listed)];
    }
    const districts = new Set(siteIds.map((s) => registry.site(s)!.district));
    if (districts.size > 1) return bad('sites', 'the sites of one event are in one district');
    const event: DrEvent = {
      id: eventId,
      district: [...districts][0]!,
      siteIds,
      startsAt: new Date(input.startsAt).toISOString(),
      endsAt: new Date(input.endsAt).toISOString(),
      requestedKw: input.requestedKw,
      reason: input.reason,
      actor: requester.actor,
      role: requester.role,
      createdAt: new Date(nowMs).toISOString(),
    };
    const announcements = siteIds.map((siteId): DrAnnouncement => ({
      kind: 'dr_event',
      id: event.id,
      district: event.district,
      siteId,
      startsAt: event.startsAt,
      endsAt: event.endsAt,
      requestedKw: event.requestedKw,
      sites: siteIds.length,
      reason: event.reason,
      at: event.createdAt,
    }));
    const overlaps = await this.create(event, announcements, receivers);
    if (overlaps.length > 0)
      return {
        refusal: {
          status: 409,
          field: 'startsAt',
          problem: `overlaps event ${overlaps.join(', ')} of the same sites`,
          overlaps,
        },
      };
    return { event, announcements, created: true };
  }

  /**
   * Stores `event` and queues its `announcements`, in one transaction, unless another event of one of its sites
   * overlaps it: then the ids of those.
   */
  private async create(
    event: Omit<DrEvent, 'result' | 'measuredAt'>,
    announcements: readonly DrAnnouncement[],
    receivers: DrReceivers,
  ): Promise<string[]> {
    return this.state.db.transaction().execute(async (tx) => {
      const overlapping = (
        await tx
          .selectFrom('dr_event')
          .selectAll()
          .where('starts_at', '<', event.endsAt)
          .where('ends_at', '>', event.startsAt)
          .execute()
      )
        .map(eventOf)
        .filter((e) => e.siteIds.some((s) => event.siteIds.includes(s)))
        .map((e) => e.id);
      if (overlapping.length > 0) return overlapping;
      await tx
        .insertInto('dr_event')
        .values({
          id: event.id,
          district: event.district,
          sites: JSON.stringify(event.siteIds),
          starts_at: event.startsAt,
          ends_at: event.endsAt,
          requested_kw: event.requestedKw,
          reason: event.reason,
          actor: event.actor,
          role: event.role,
          created_at: event.createdAt,
          result: null,
          measured_at: null,
        })
        .execute();
      for (const a of announcements)
        for (const [channel, target] of announcementTargets(receivers, a))
          await enqueue(tx, {
            deliveryId: deliveryId('dr_event', a.id, a.siteId, channel, target),
            channel,
            target,
            payload: JSON.stringify(a),
            at: a.at,
          });
      return [];
    });
  }

  async get(id: string): Promise<DrEvent | undefined> {
    const row = await this.state.db
      .selectFrom('dr_event')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row && eventOf(row);
  }

  /** Every event, latest first, or those starting in [fromIso, toIso). */
  async list(range?: { fromIso: string; toIso: string }): Promise<DrEvent[]> {
    let q = this.state.db.selectFrom('dr_event').selectAll();
    if (range) q = q.where('starts_at', '>=', range.fromIso).where('starts_at', '<', range.toIso);
    return (await q.orderBy('starts_at', 'desc').execute()).map(eventOf);
  }

  /**
   * Events to measure, oldest first: those that ended by `endedBy` and are not measured yet, and those measured that
   * ended after `againAfter` (measured again, for readings that came late).
   */
  async toMeasure(endedBy: string, againAfter: string): Promise<DrEvent[]> {
    return (
      await this.state.db
        .selectFrom('dr_event')
        .selectAll()
        .where('ends_at', '<=', endedBy)
        .where((eb) => eb.or([eb('measured_at', 'is', null), eb('ends_at', '>', againAfter)]))
        .orderBy('ends_at')
        .execute()
    ).map(eventOf);
  }

  async recordResult(id: string, result: DrEventResult, atIso: string): Promise<void> {
    await this.state.db
      .updateTable('dr_event')
      .set({ result: JSON.stringify(result), measured_at: atIso })
      .where('id', '=', id)
      .execute();
  }
}

/** The facility managers' webhooks and e-mail addresses (of the site's district, or of all), and the site's topic. */
function announcementTargets(receivers: DrReceivers, a: DrAnnouncement): [OutboxChannel, string][] {
  const reaches = (r: { audience: string; district?: string }): boolean =>
    r.audience === 'facility_manager' && (!r.district || r.district === a.district);
  return [
    ...receivers.webhooks.filter(reaches).map((w): [OutboxChannel, string] => ['webhook', w.url]),
    ...receivers.emails.filter(reaches).map((e): [OutboxChannel, string] => ['email', e.address]),
    ['mqtt', drAnnouncementTopic(a.district, a.siteId)],
  ];
}
