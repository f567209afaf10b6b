import type { Kysely } from 'kysely';

/**
 * History imports (docs/imports.md): each import is a batch with its provenance (file name and SHA-256, who, when,
 * why, rows accepted and rejected), its refused rows, and the stored points it replaced (restored by a rollback).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('import_batch')
    .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('file_name', 'varchar(255)', (c) => c.notNull())
    .addColumn('file_sha256', 'varchar(64)', (c) => c.notNull())
    .addColumn('actor', 'varchar(64)', (c) => c.notNull())
    .addColumn('role', 'varchar(32)', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('rows_accepted', 'integer', (c) => c.notNull())
    .addColumn('rows_rejected', 'integer', (c) => c.notNull())
    .addColumn('rows_replaced', 'integer', (c) => c.notNull())
    .addColumn('summary', 'text', (c) => c.notNull())
    .addColumn('rolled_back_at', 'varchar(32)')
    .execute();
  await db.schema
    .createTable('import_rejection')
    .addColumn('batch_id', 'varchar(40)', (c) => c.notNull())
    .addColumn('row_number', 'integer', (c) => c.notNull())
    .addColumn('field', 'varchar(32)', (c) => c.notNull())
    .addColumn('reason', 'varchar(40)', (c) => c.notNull())
    .addColumn('detail', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('import_rejection_pk', ['batch_id', 'row_number', 'field'])
    .execute();
  await db.schema
    .createTable('import_replaced')
    .addColumn('batch_id', 'varchar(40)', (c) => c.notNull())
    .addColumn('device_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('ts_ms', 'bigint', (c) => c.notNull())
    .addColumn('line', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('import_replaced_pk', ['batch_id', 'device_id', 'ts_ms'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('import_replaced').execute();
  await db.schema.dropTable('import_rejection').execute();
  await db.schema.dropTable('import_batch').execute();
}
