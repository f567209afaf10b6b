import { PeakWatchError } from '@peakwatch/contracts';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import {
  Kysely,
  Migrator,
  PostgresDialect,
  SqliteDialect,
  sql,
  type Dialect,
  type MigrationResult,
} from 'kysely';
import { Pool } from 'pg';
import type { StateStoreConfig } from '@peakwatch/config';
import { MIGRATIONS } from './migrations';
import type { StateSchema } from './state.schema';

/** SQLite waits this long for a lock held by another process before failing (ms). */
const SQLITE_BUSY_TIMEOUT_MS = 5_000;
const MIGRATION_TABLE = 'state_migration';
const MIGRATION_LOCK_TABLE = 'state_migration_lock';

export class MigrationError extends PeakWatchError {
  readonly code = 'migration_failed';
  constructor(
    readonly migration: string | undefined,
    cause: unknown,
  ) {
    super(`State store migration ${migration ?? '(unknown)'} failed: ${String(cause)}`, { cause });
    this.name = 'MigrationError';
  }
}

/**
 * The state store (README, "Architecture"): credentials, API keys, alerts, outboxes, reports. SQLite in DATA_DIR by default,
 * PostgreSQL when DATABASE_URL says so; one Kysely schema and one set of migrations for both.
 */
export class StateStore {
  private constructor(
    readonly db: Kysely<StateSchema>,
    readonly kind: StateStoreConfig['kind'],
    /** Names of the migrations applied by this open, in order. */
    readonly applied: readonly string[],
  ) {}

  /** Opens the store and brings its schema up to date. */
  static async open(config: StateStoreConfig): Promise<StateStore> {
    const db = new Kysely<StateSchema>({ dialect: createDialect(config) });
    try {
      const applied = await migrateToLatest(db);
      const store = new StateStore(db, config.kind, applied);
      await store.ensureInstanceId();
      return store;
    } catch (error) {
      await db.destroy();
      throw error;
    }
  }

  /** A stable id of this installation, created on first start. */
  async instanceId(): Promise<string> {
    const row = await this.db
      .selectFrom('state_info')
      .select('value')
      .where('key', '=', 'instance_id')
      .executeTakeFirst();
    if (!row) throw new Error('state store has no instance_id');
    return row.value;
  }

  /** A value of state_info, or none. */
  async info(key: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('state_info')
      .select('value')
      .where('key', '=', key)
      .executeTakeFirst();
    return row?.value;
  }

  /** Sets a value of state_info. */
  async setInfo(key: string, value: string, at: string): Promise<void> {
    await this.db
      .insertInto('state_info')
      .values({ key, value, updated_at: at })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: at }))
      .execute();
  }

  /** True when the store answers a trivial query. */
  async ping(): Promise<boolean> {
    try {
      await sql`select 1`.execute(this.db);
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }

  private async ensureInstanceId(): Promise<void> {
    await this.db
      .insertInto('state_info')
      .values({ key: 'instance_id', value: randomUUID(), updated_at: new Date().toISOString() })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
  }
}

function createDialect(config: StateStoreConfig): Dialect {
  switch (config.kind) {
    case 'sqlite': {
      let database: Database.Database;
      try {
        mkdirSync(dirname(config.file), { recursive: true });
        database = new Database(config.file);
      } catch (error) {
        throw new Error(`cannot open the SQLite state store ${config.file}: ${String(error)}`, {
          cause: error,
        });
      }
      // WAL lets readers run beside the one writer; synchronous stays FULL (the default) so a committed
      // outbox entry survives a power cut.
      database.pragma('journal_mode = WAL');
      database.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
      database.pragma('foreign_keys = ON');
      return new SqliteDialect({ database });
    }
    case 'postgres':
      return new PostgresDialect({ pool: new Pool({ connectionString: config.url }) });
  }
}

async function migrateToLatest(db: Kysely<StateSchema>): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(MIGRATIONS) },
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r: MigrationResult) => r.status === 'Error');
    throw new MigrationError(failed?.migrationName, error);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
