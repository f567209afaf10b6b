import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { MIGRATIONS, StateStore } from '@peakwatch/state';

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
