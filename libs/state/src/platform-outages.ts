import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { StateSchema } from './state.schema';

/**
 * PeakWatch's own outages (docs/incidents.md, "Platform outages"), as its ingest replicas see them, each its own: the
 * gaps they leave are the platform's, not the sites'.
 */

/** The state_info key of ingest's heartbeat (ISO time of the last check of any replica). */
export const INGEST_HEARTBEAT_KEY = 'ingest_heartbeat';
/** How often ingest checks its broker and InfluxDB and beats (ms). */
export const INGEST_HEARTBEAT_MS = 30_000;
/** A heartbeat older than this: ingest is not running (ms). */
export const INGEST_HEARTBEAT_STALE_MS = 4 * INGEST_HEARTBEAT_MS;

/** Opens an outage of `component` seen by `replica` at `at`, unless it has one open. */
export async function openOutage(
  db: Kysely<StateSchema>,
  component: string,
  replica: string,
  at: string,
): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const open = await tx
      .selectFrom('platform_outage')
      .select('id')
      .where('component', '=', component)
      .where('replica', '=', replica)
      .where('ended_at', 'is', null)
      .executeTakeFirst();
    if (!open)
      await tx
        .insertInto('platform_outage')
        .values({ id: randomUUID(), component, replica, started_at: at, ended_at: null })
        .execute();
  });
}

/** Ends the outages of `replica` still open at `at`: of `component`, or all of them. */
export async function closeOutages(
  db: Kysely<StateSchema>,
  replica: string,
  at: string,
  component?: string,
): Promise<void> {
  let query = db
    .updateTable('platform_outage')
    .set({ ended_at: at })
    .where('replica', '=', replica)
    .where('ended_at', 'is', null);
  if (component) query = query.where('component', '=', component);
  await query.execute();
}

/** Records an outage of `replica` that is over, [from, to]. */
export async function recordOutage(
  db: Kysely<StateSchema>,
  component: string,
  replica: string,
  from: string,
  to: string,
): Promise<void> {
  await db
    .insertInto('platform_outage')
    .values({ id: randomUUID(), component, replica, started_at: from, ended_at: to })
    .execute();
}
