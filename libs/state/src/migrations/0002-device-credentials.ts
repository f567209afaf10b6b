import type { Kysely } from 'kysely';

/** MQTT credentials: devices (username = device id) and PeakWatch's own service clients. Secrets are stored hashed. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('mqtt_credential')
    .addColumn('username', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('role', 'varchar(16)', (c) => c.notNull())
    .addColumn('site_id', 'varchar(64)')
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('rotated_at', 'varchar(32)', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('mqtt_credential').execute();
}
