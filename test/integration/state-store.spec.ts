import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import { Pool } from 'pg';
import { ApiKeysRepository } from '@peakwatch/api';
import type { StateStoreConfig } from '@peakwatch/config';
import { CredentialsRepository } from '@peakwatch/state';
import { MIGRATIONS, StateStore } from '@peakwatch/state';
import { startPostgres, type TestPostgres } from '../support/postgres';

describe('state store (SQLite in DATA_DIR)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'peakwatch-state-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('creates the file and its directory, and applies every migration in order on first open', async () => {
    const store = await StateStore.open({ kind: 'sqlite', file: join(dir, 'nested', 'state.sqlite') });
    try {
      expect(store.applied).toEqual(Object.keys(MIGRATIONS).sort());
      expect(store.applied[0]).toBe('0001-state-info');
      const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(
        store.db,
      );
      expect(tables.rows.map((r) => r.name)).toEqual(
        expect.arrayContaining(['state_info', 'state_migration']),
      );
      expect(await store.ping()).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('applies nothing on a second open and keeps its data (instance id)', async () => {
    const file = join(dir, 'state.sqlite');
    const first = await StateStore.open({ kind: 'sqlite', file });
    const id = await first.instanceId();
    await first.close();

    const second = await StateStore.open({ kind: 'sqlite', file });
    try {
      expect(second.applied).toEqual([]);
      expect(await second.instanceId()).toBe(id);
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await second.close();
    }
  });

  it('fails to open where the file cannot be created, naming the cause', async () => {
    const notADirectory = join(dir, 'plain-file');
    await writeFile(notADirectory, 'x');
    const file = join(notADirectory, 'state.sqlite');
    await expect(StateStore.open({ kind: 'sqlite', file })).rejects.toThrow(
      `cannot open the SQLite state store ${file}: Error: EEXIST`,
    );
  });
});

/**
 * The same store on both back ends: SQLite in DATA_DIR (one process) and PostgreSQL (DATABASE_URL), which several
 * PeakWatch processes share. PostgreSQL is the Debian package's server, started for the test like influxd.
 */
describe.each(['sqlite', 'postgres'] as const)('state store on %s', (kind) => {
  let postgres: TestPostgres | undefined;
  let dir: string;
  beforeAll(async () => {
    if (kind === 'postgres') postgres = await startPostgres();
  });
  afterAll(() => postgres?.stop());
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'peakwatch-state-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const config = async (): Promise<StateStoreConfig> =>
    kind === 'sqlite' ? { kind, file: join(dir, 'state.sqlite') } : { kind, url: await postgres!.database() };

  it('applies every migration once, however many processes start at the same time, and keeps its data', async () => {
    const where = await config();
    // SQLite has one process by design; PostgreSQL is opened by three at once (the migrator's lock orders them)
    const stores = await Promise.all(
      Array.from({ length: kind === 'postgres' ? 3 : 1 }, () => StateStore.open(where)),
    );
    try {
      expect(stores.flatMap((s) => s.applied).sort()).toEqual(Object.keys(MIGRATIONS).sort());
      const ids = await Promise.all(stores.map((s) => s.instanceId()));
      expect(new Set(ids).size).toBe(1);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
    const again = await StateStore.open(where);
    try {
      expect(again.applied).toEqual([]);
    } finally {
      await again.close();
    }
  });

  it('moves the pending and delivered rows of alert_outbox into the outbox (migration 0009)', async () => {
    const where = await config();
    // a store as the release before left it: migrated up to 0008, with one delivery pending and one delivered
    const before = new Kysely<Record<string, Record<string, unknown>>>({
      dialect:
        where.kind === 'sqlite'
          ? new SqliteDialect({ database: new Database(where.file) })
          : new PostgresDialect({ pool: new Pool({ connectionString: where.url }) }),
    });
    try {
      const migrator = new Migrator({
        db: before,
        provider: { getMigrations: () => Promise.resolve(MIGRATIONS) },
        migrationTableName: 'state_migration',
        migrationLockTableName: 'state_migration_lock',
      });
      expect((await migrator.migrateTo('0008-audit-log')).error).toBeUndefined();
      const row = (id: string, deliveredAt: string | null) => ({
        delivery_id: id,
        channel: 'webhook',
        target: 'https://receiver.example/hook',
        payload: '{}',
        created_at: '2026-03-01T00:00:00.000Z',
        attempts: deliveredAt ? 1 : 3,
        next_attempt_at: '2026-03-01T00:05:00.000Z',
        delivered_at: deliveredAt,
        last_error: null,
        receipt: deliveredAt ? 'R-1' : null,
      });
      await before
        .insertInto('alert_outbox')
        .values([row('pending-1', null), row('delivered-1', '2026-03-01T00:00:01.000Z')])
        .execute();
    } finally {
      await before.destroy();
    }
    const store = await StateStore.open(where);
    try {
      // 0009 and every migration after it
      expect(store.applied).toEqual(
        Object.keys(MIGRATIONS)
          .sort()
          .filter((name) => name >= '0009-outbox'),
      );
      const rows = await store.db
        .selectFrom('outbox')
        .select(['delivery_id', 'attempts', 'delivered_at', 'receipt'])
        .orderBy('delivery_id')
        .execute();
      expect(rows).toEqual([
        { delivery_id: 'delivered-1', attempts: 1, delivered_at: '2026-03-01T00:00:01.000Z', receipt: 'R-1' },
        { delivery_id: 'pending-1', attempts: 3, delivered_at: null, receipt: null },
      ]);
    } finally {
      await store.close();
    }
  });

  it('shares credentials and API keys between the processes that use it', async () => {
    const where = await config();
    const first = await StateStore.open(where);
    // two connections stand for two PeakWatch processes (SQLite: one file, used one after the other)
    const second = kind === 'postgres' ? await StateStore.open(where) : first;
    try {
      const secret = await new CredentialsRepository(first).issue('b1-grid', 'device', 'hd-b1');
      expect(await new CredentialsRepository(second).verify('b1-grid', secret)).toMatchObject({
        username: 'b1-grid',
        role: 'device',
        siteId: 'hd-b1',
      });
      const { id, key } = await new ApiKeysRepository(first).create({
        name: 'shared',
        role: 'regulator',
        scope: ['haidian'],
      });
      const elsewhere = new ApiKeysRepository(second);
      expect(await elsewhere.verify(key)).toEqual({ keyId: id, role: 'regulator', scope: ['haidian'] });
      expect(await new ApiKeysRepository(first).revoke(id)).toBe(true);
      expect(await elsewhere.verify(key)).toBeUndefined(); // revoked in one process, refused in the other at once
    } finally {
      if (second !== first) await second.close();
      await first.close();
    }
  });
});
