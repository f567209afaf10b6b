import type { Kysely } from 'kysely';

/**
 * What a leased part's work leaves for the rest of its run (docs/deployment.md, "Replicas"): a KPI share's partial
 * district and city roll-ups, so that the run's last part combines them instead of reading every site back.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('job_lease').addColumn('result', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('job_lease').dropColumn('result').execute();
}
