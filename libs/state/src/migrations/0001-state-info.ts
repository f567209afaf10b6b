import type { Kysely } from 'kysely';

/** Key/value facts about this installation (instance id, first start), readable by every process sharing the store. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('state_info')
    .addColumn('key', 'varchar(128)', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('state_info').execute();
}
