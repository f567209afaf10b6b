import type { Kysely } from 'kysely';

/** Emitter reports, every version kept; and the receipt a receiver answered to a delivery. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('report')
    .addColumn('org_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('period', 'varchar(16)', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('content_hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('corrects', 'integer')
    .addColumn('changes', 'text', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('json', 'text', (c) => c.notNull())
    .addColumn('delivery_id', 'varchar(40)')
    .addPrimaryKeyConstraint('report_pk', ['org_id', 'period', 'version'])
    .execute();
  await db.schema.alterTable('alert_outbox').addColumn('receipt', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('alert_outbox').dropColumn('receipt').execute();
  await db.schema.dropTable('report').execute();
}
