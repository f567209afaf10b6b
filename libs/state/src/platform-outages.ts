import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { StateSchema } from './state.schema';

/**
 * PeakWatch's own outages (docs/incidents.md, "Platform outages"), as its processes see them: the gaps they leave are
 * the platform's, not the sites'.
 */

/** The state_info key of ingest's heartbeat (ISO time of its last check). */
export const INGEST_HEARTBEAT_KEY = 'ingest_heartbeat';
/** How often ingest checks its broker and InfluxDB and beats (ms). */
export const INGEST_HEARTBEAT_MS = 30_000;
/** A heartbeat older than this: ingest is not running (ms). */
export const INGEST_HEARTBEAT_STALE_MS = 4 * INGEST_HEARTBEAT_MS;

/** Opens an outage of `component` at `at`, unless one is open. */
export async function openOutage(db: Kysely<StateSchema>, component: string, at: string): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const open = await tx
      .selectFrom('platform_outage')
      .select('id')
      .where('component', '=', component)
      .where('ended_at', 'is', null)
      .executeTakeFirst();
    if (!open)
      await tx
        .insertInto('platform_outage')
        .values({ id: randomUUID(), component, started_at: at, ended_at: null })
        .execute();
  });
}

/** Ends the open outage of `component` at `at` (none open: nothing). */
export async function closeOutage(db: Kysely<StateSchema>, component: string, at: string): Promise<void> {
  await db
    .updateTable('platform_outage')
    .set({ ended_at: at })
    .where('component', '=', component)
    .where('ended_at', 'is', null)
    .execute();
}

/** Records an outage that is over, [from, to]. */
export async function recordOutage(
  db: Kysely<StateSchema>,
  component: string,
  from: string,
  to: string,
): Promise<void> {
  await db
    .insertInto('platform_outage')
    .values({ id: randomUUID(), component, started_at: from, ended_at: to })
    .execute();
}
