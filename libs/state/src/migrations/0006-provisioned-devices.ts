import type { Kysely } from 'kysely';

/** Devices provisioned at run time through the API, beside the registry files; every process adds them to its registry. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('provisioned_device')
    .addColumn('device_id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('site_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('spec', 'text', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('provisioned_device').execute();
}
