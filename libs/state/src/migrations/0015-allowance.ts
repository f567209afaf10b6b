import type { Kysely } from 'kysely';

/**
 * An organisation's carbon-market allowance (配额) for a compliance year, every declaration kept as a version
 * (docs/reports.md, "Carbon-market position").
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('allowance')
    .addColumn('org_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('year', 'varchar(4)', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('declaration', 'text', (c) => c.notNull())
    .addColumn('declared_by', 'varchar(128)', (c) => c.notNull())
    .addColumn('declared_at', 'varchar(32)', (c) => c.notNull())
    .addPrimaryKeyConstraint('allowance_pk', ['org_id', 'year', 'version'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('allowance').execute();
}
