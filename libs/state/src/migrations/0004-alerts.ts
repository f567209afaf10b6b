import type { Kysely } from 'kysely';

/**
 * Alerts: the state of each rule for each entity, its append-only history (the audit trail), and the notification
 * outbox (each delivery with its idempotency key, retried until delivered).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('alert_state')
    .addColumn('rule_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('entity', 'varchar(64)', (c) => c.notNull())
    .addColumn('site_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('since', 'varchar(32)', (c) => c.notNull())
    .addColumn('episode', 'integer', (c) => c.notNull())
    .addColumn('value', 'double precision')
    .addColumn('acked_at', 'varchar(32)')
    .addColumn('acked_by', 'varchar(64)')
    .addColumn('escalated_at', 'varchar(32)')
    .addPrimaryKeyConstraint('alert_state_pk', ['rule_id', 'entity'])
    .execute();
  await db.schema
    .createTable('alert_history')
    .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('rule_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('entity', 'varchar(64)', (c) => c.notNull())
    .addColumn('site_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('at', 'varchar(32)', (c) => c.notNull())
    .addColumn('event', 'varchar(16)', (c) => c.notNull())
    .addColumn('episode', 'integer', (c) => c.notNull())
    .addColumn('detail', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('alert_history_site').on('alert_history').columns(['site_id', 'at']).execute();
  await db.schema
    .createTable('alert_outbox')
    .addColumn('delivery_id', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('channel', 'varchar(16)', (c) => c.notNull())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('delivered_at', 'varchar(32)')
    .addColumn('last_error', 'text')
    .execute();
  await db.schema
    .createIndex('alert_outbox_due')
    .on('alert_outbox')
    .columns(['delivered_at', 'next_attempt_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('alert_outbox').execute();
  await db.schema.dropTable('alert_history').execute();
  await db.schema.dropTable('alert_state').execute();
}
