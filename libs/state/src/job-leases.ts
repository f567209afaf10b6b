import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { sql } from 'kysely';
import type { StateStore } from './state-store';

/** How long leases are kept (ms), so that an operator can see which replica ran what. */
const LEASE_KEEP_MS = 7 * 86_400_000;
/** How often a replica waiting for parts others hold looks again (ms; at most `renewMs`). */
const WAIT_POLL_MS = 1000;

/** What a claim got: the part to do, a part another replica holds (alive), or a part already done. */
export type LeaseClaim = 'granted' | 'held' | 'done';

/** The run of a job a moment belongs to: the ISO start of the schedule's period that holds it. */
export function slotOf(nowMs: number, periodMs: number): string {
  return new Date(Math.floor(nowMs / periodMs) * periodMs).toISOString();
}

/**
 * Scheduled work done once across replicas that share a PostgreSQL state store (docs/deployment.md, "Replicas"). A
 * run of a job (its slot) is cut into parts; each part is leased to one replica in the `job_lease` table, renewed while
 * the replica works on it and marked done at the end. A lease its holder stopped renewing (a replica killed, a machine
 * gone) expires after `ttlMs` (JOB_LEASE_SECONDS) and is taken over by a replica waiting for the run to finish, so
 * the run is finished by another within `ttlMs` + `renewMs`. A run does not start while an earlier run of the same job
 * is still held. Replicas' clocks are compared: keep them within a few seconds (NTP).
 */
export class JobLeases {
  /** This replica: host, process id, and a random suffix (a restarted process is another holder). */
  readonly holder: string;

  constructor(
    private readonly state: StateStore,
    private readonly now: () => number,
    /**
     * `ttlMs`: how long a lease holds without renewal (a replica that stops renewing loses its work after it);
     * `renewMs`: how often a holder renews its lease (a waiting replica looks again every second, or as often).
     */
    private readonly timing: { ttlMs: number; renewMs: number },
    holder?: string,
  ) {
    this.holder = holder ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  }

  /**
   * Whether replicas share the store (PostgreSQL), so that scheduled work is leased; with SQLite a process is alone
   * and runs its jobs itself.
   */
  get shared(): boolean {
    return this.state.kind === 'postgres';
  }

  /**
   * Does every part of a run of `job`, together with the other replicas: claims each part nobody holds (or whose
   * holder stopped renewing it) and does it, and waits while others hold parts, until every part is done or `untilMs`
   * (then the next run covers the work). Returns the parts this replica did, and whether every part is done. A part
   * whose work throws is released at once for another replica to try; this replica claims the parts left in that pass,
   * then throws the error instead of waiting for the parts others hold. What a part's work returns, when a string, is
   * kept with the part for the run's other parts to read (`results`).
   */
  async runParts(
    job: string,
    slot: string,
    parts: readonly string[],
    work: (part: string) => Promise<unknown>,
    untilMs = Number.POSITIVE_INFINITY,
  ): Promise<{ did: string[]; complete: boolean }> {
    const did: string[] = [];
    let failure: Error | undefined;
    let pending = [...parts];
    while (pending.length > 0) {
      const held: string[] = [];
      for (const part of pending) {
        const claim = await this.claim(job, slot, part);
        if (claim === 'held') held.push(part);
        if (claim !== 'granted') continue;
        try {
          await this.hold(job, slot, part, () => work(part));
          did.push(part);
        } catch (error) {
          failure ??= error instanceof Error ? error : new Error(String(error));
        }
      }
      pending = held;
      if (failure !== undefined || pending.length === 0 || this.now() >= untilMs) break;
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(this.timing.renewMs, WAIT_POLL_MS)).unref(),
      );
    }
    if (failure !== undefined) throw failure;
    return { did, complete: pending.length === 0 };
  }

  /** Claims one part of a run: a new lease, or a takeover of one whose holder stopped renewing it. */
  async claim(job: string, slot: string, part: string): Promise<LeaseClaim> {
    const nowMs = this.now();
    const now = new Date(nowMs).toISOString();
    const until = new Date(nowMs + this.timing.ttlMs).toISOString();
    const earlier = await this.state.db
      .selectFrom('job_lease')
      .select('slot')
      .where('job', '=', job)
      .where('slot', '<', slot)
      .where('done_at', 'is', null)
      .where('lease_until', '>', now)
      .executeTakeFirst();
    if (earlier) return 'held';
    const inserted = await this.state.db
      .insertInto('job_lease')
      .values({
        job,
        slot,
        part,
        holder: this.holder,
        lease_until: until,
        started_at: now,
        done_at: null,
        takeovers: 0,
      })
      .onConflict((oc) => oc.columns(['job', 'slot', 'part']).doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) return 'granted';
    const taken = await this.state.db
      .updateTable('job_lease')
      .set({ holder: this.holder, lease_until: until, takeovers: sql<number>`takeovers + 1` })
      .where((eb) => eb.and({ job, slot, part }))
      .where('done_at', 'is', null)
      .where('lease_until', '<=', now)
      .executeTakeFirst();
    if (Number(taken.numUpdatedRows) === 1) return 'granted';
    const row = await this.state.db
      .selectFrom('job_lease')
      .select('done_at')
      .where((eb) => eb.and({ job, slot, part }))
      .executeTakeFirst();
    return row?.done_at ? 'done' : 'held';
  }

  /** What the done parts of a run kept (their work's results), by part. */
  async results(job: string, slot: string): Promise<Map<string, string>> {
    const rows = await this.state.db
      .selectFrom('job_lease')
      .select(['part', 'result'])
      .where('job', '=', job)
      .where('slot', '=', slot)
      .where('done_at', 'is not', null)
      .where('result', 'is not', null)
      .execute();
    return new Map(rows.map((r) => [r.part, r.result!]));
  }

  /** Forgets what a run's parts kept, once the part that needed it is done (a city's KPI shares keep megabytes). */
  async clearResults(job: string, slot: string): Promise<void> {
    await this.state.db
      .updateTable('job_lease')
      .set({ result: null })
      .where('job', '=', job)
      .where('slot', '=', slot)
      .execute();
  }

  /**
   * Does a claimed part, renewing its lease meanwhile; marks it done with what the work returned, or releases it when
   * the work throws.
   */
  private async hold(job: string, slot: string, part: string, work: () => Promise<unknown>): Promise<void> {
    const mine = () =>
      this.state.db
        .updateTable('job_lease')
        .where((eb) => eb.and({ job, slot, part }))
        .where('holder', '=', this.holder)
        .where('done_at', 'is', null);
    const renewal = setInterval(() => {
      const until = new Date(this.now() + this.timing.ttlMs).toISOString();
      // a failed renewal is retried at the next interval; if none succeeds the lease expires, as for a dead holder
      mine()
        .set({ lease_until: until })
        .execute()
        .catch(() => undefined);
    }, this.timing.renewMs);
    renewal.unref();
    let result: unknown;
    try {
      result = await work();
    } catch (error) {
      clearInterval(renewal);
      await mine()
        .set({ lease_until: new Date(this.now()).toISOString() })
        .execute()
        .catch(() => undefined);
      throw error;
    }
    clearInterval(renewal);
    const nowMs = this.now();
    await mine()
      .set({ done_at: new Date(nowMs).toISOString(), result: typeof result === 'string' ? result : null })
      .execute();
    await this.state.db
      .deleteFrom('job_lease')
      .where('job', '=', job)
      .where('started_at', '<', new Date(nowMs - LEASE_KEEP_MS).toISOString())
      .execute();
  }
}
