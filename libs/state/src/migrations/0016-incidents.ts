import type { Kysely } from 'kysely';

/**
 * Incidents (docs/incidents.md): PeakWatch's own outages as its processes saw them, the incidents that group the
 * alerts of one cause, their members, and the data-quality firings held a short while to see whether they share one.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('platform_outage')
    .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('component', 'varchar(16)', (c) => c.notNull())
    .addColumn('started_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('ended_at', 'varchar(32)')
    .execute();
  await db.schema
    .createIndex('platform_outage_span')
    .on('platform_outage')
    .columns(['started_at', 'ended_at'])
    .execute();
  await db.schema
    .createTable('incident')
    .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('cause', 'varchar(64)', (c) => c.notNull())
    .addColumn('opened_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('resolved_at', 'varchar(32)')
    .execute();
  await db.schema
    .createTable('incident_member')
    .addColumn('rule_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('entity', 'varchar(64)', (c) => c.notNull())
    .addColumn('episode', 'integer', (c) => c.notNull())
    .addColumn('incident_id', 'varchar(40)', (c) => c.notNull())
    .addColumn('site_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('fired_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('resolved_at', 'varchar(32)')
    .addColumn('notifications', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('incident_member_pk', ['rule_id', 'entity', 'episode'])
    .execute();
  await db.schema.createIndex('incident_member_of').on('incident_member').columns(['incident_id']).execute();
  await db.schema
    .createTable('alert_hold')
    .addColumn('rule_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('entity', 'varchar(64)', (c) => c.notNull())
    .addColumn('episode', 'integer', (c) => c.notNull())
    .addColumn('site_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('held_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('causes', 'text', (c) => c.notNull())
    .addColumn('notifications', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('alert_hold_pk', ['rule_id', 'entity', 'episode'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['alert_hold', 'incident_member', 'incident', 'platform_outage'])
    await db.schema.dropTable(table).execute();
}
