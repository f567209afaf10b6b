import type { Selectable, Transaction } from 'kysely';
import type { StateSchema } from './state.schema';
import type { StateStore } from './state-store';

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
   * Stores `event` unless another event of one of its sites overlaps it (returns the ids of those instead), and, in
   * the same transaction, queues its announcements (`announce`), so that an event is announced exactly when stored.
   */
  async create(
    event: Omit<DrEvent, 'result' | 'measuredAt'>,
    announce: (tx: Transaction<StateSchema>) => Promise<void>,
  ): Promise<{ overlaps: string[] }> {
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
      if (overlapping.length > 0) return { overlaps: overlapping };
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
      await announce(tx);
      return { overlaps: [] };
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
