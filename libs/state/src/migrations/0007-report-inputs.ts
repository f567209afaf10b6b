import type { Kysely } from 'kysely';

/** What an organisation declares for a period beside its meters: green certificates, purchased heat, its output. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('report_input')
    .addColumn('org_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('period', 'varchar(16)', (c) => c.notNull())
    .addColumn('inputs', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .addPrimaryKeyConstraint('report_input_pk', ['org_id', 'period'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('report_input').execute();
}
