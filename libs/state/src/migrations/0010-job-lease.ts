import type { Kysely } from 'kysely';

/**
 * Leases of scheduled work (docs/deployment.md, "Replicas"): one row per part of one run of a job, held by one replica
 * until done, taken over by another when its holder stops renewing it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('job_lease')
    .addColumn('job', 'varchar(32)', (c) => c.notNull())
    .addColumn('slot', 'varchar(32)', (c) => c.notNull())
    .addColumn('part', 'varchar(32)', (c) => c.notNull())
    .addColumn('holder', 'varchar(120)', (c) => c.notNull())
    .addColumn('lease_until', 'varchar(32)', (c) => c.notNull())
    .addColumn('started_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('done_at', 'varchar(32)')
    .addColumn('takeovers', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('job_lease_pk', ['job', 'slot', 'part'])
    .execute();
  await db.schema.createIndex('job_lease_started').on('job_lease').column('started_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('job_lease').execute();
}
