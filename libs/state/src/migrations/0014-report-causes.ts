import type { Kysely } from 'kysely';

/**
 * Why a report version corrects the previous one (docs/reports.md, "Versions and submission"): the readings,
 * declarations, registry entries or factors whose change its evidence bundle shows, as a JSON array.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('report').addColumn('causes', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('report').dropColumn('causes').execute();
}
