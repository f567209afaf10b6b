import type { Kysely } from 'kysely';

/**
 * The outbox is named for what it carries: alert notifications and report submissions (`alert_outbox` -> `outbox`).
 * Its rows, pending or delivered, move with it; the index of due deliveries is renamed with it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('alert_outbox').renameTo('outbox').execute();
  await db.schema.dropIndex('alert_outbox_due').execute();
  await db.schema
    .createIndex('outbox_due')
    .on('outbox')
    .columns(['delivered_at', 'next_attempt_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('outbox_due').execute();
  await db.schema.alterTable('outbox').renameTo('alert_outbox').execute();
  await db.schema
    .createIndex('alert_outbox_due')
    .on('alert_outbox')
    .columns(['delivered_at', 'next_attempt_at'])
    .execute();
}
