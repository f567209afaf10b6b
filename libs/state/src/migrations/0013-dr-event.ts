import type { Kysely } from 'kysely';

/**
 * Demand-response events (docs/domain.md, "Demand response"): who asked for what reduction of which sites and when,
 * and, once measured, each site's response and the total.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('dr_event')
    .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('district', 'varchar(64)', (c) => c.notNull())
    .addColumn('sites', 'text', (c) => c.notNull())
    .addColumn('starts_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('ends_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('requested_kw', 'double precision', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('actor', 'varchar(64)', (c) => c.notNull())
    .addColumn('role', 'varchar(32)', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('result', 'text')
    .addColumn('measured_at', 'varchar(32)')
    .execute();
  await db.schema.createIndex('dr_event_ends').on('dr_event').column('ends_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('dr_event').execute();
}
