import type { Kysely } from 'kysely';

/**
 * Which ingest replica saw each platform outage (docs/incidents.md, "Platform outages"): each replica opens and closes
 * its own, so that one replica seeing its broker up does not end the outage another still suffers.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('platform_outage').addColumn('replica', 'varchar(64)').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('platform_outage').dropColumn('replica').execute();
}
