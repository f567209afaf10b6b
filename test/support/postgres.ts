import { spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { ManagedProcess, canConnect, freePort, requireBinary } from '@peakwatch/process';
import { watchForOrphaning } from './orphan-watchdog';

export interface TestPostgres {
  port: number;
  /** A fresh, empty database on this server: its postgres:// URL. */
  database(): Promise<string>;
  stop(): Promise<void>;
}

/** PostgreSQL refuses to run as root; Debian's package creates this user. */
const POSTGRES_USER = 'postgres';
let databases = 0;

/**
 * A private PostgreSQL (Debian `postgresql`) on a free loopback port, its cluster in a temporary directory, trust
 * authentication for the role `peakwatch`, fsync off (a test cluster). Run as `postgres` when the tests run as root.
 */
export async function startPostgres(): Promise<TestPostgres> {
  watchForOrphaning();
  const initdb = requireBinary('initdb');
  const postgres = requireBinary('postgres');
  const dir = mkdtempSync(join(tmpdir(), 'peakwatch-postgres-'));
  const asRoot = process.getuid?.() === 0;
  const uid = asRoot
    ? Number(spawnSync('id', ['-u', POSTGRES_USER], { encoding: 'utf8' }).stdout.trim())
    : undefined;
  const gid = asRoot
    ? Number(spawnSync('id', ['-g', POSTGRES_USER], { encoding: 'utf8' }).stdout.trim())
    : undefined;
  if (asRoot) chownSync(dir, uid!, gid!);
  const data = join(dir, 'data');
  const init = spawnSync(
    asRoot ? '/usr/bin/setpriv' : initdb,
    [
      ...(asRoot ? [`--reuid=${POSTGRES_USER}`, `--regid=${POSTGRES_USER}`, '--init-groups', initdb] : []),
      '-D',
      data,
      '-U',
      'peakwatch',
      '--auth=trust',
      '-E',
      'UTF8',
      '--no-sync',
    ],
    { encoding: 'utf8' },
  );
  if (init.status !== 0) throw new Error(`initdb failed (${init.status}):\n${init.stderr}`);
  const port = await freePort();
  const server = await ManagedProcess.start({
    name: 'postgres',
    command: postgres,
    args: ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'],
    // accepting TCP is not enough: it answers "starting up" until recovery is done
    ready: async () => {
      if (!(await canConnect(port))) return false;
      const probe = new Client({ connectionString: `postgres://peakwatch@127.0.0.1:${port}/postgres` });
      try {
        await probe.connect();
        await probe.query('SELECT 1');
        return true;
      } finally {
        await probe.end().catch(() => undefined);
      }
    },
    ...(asRoot ? { user: POSTGRES_USER } : {}),
  });
  const url = (db: string): string => `postgres://peakwatch@127.0.0.1:${port}/${db}`;
  return {
    port,
    async database() {
      const name = `test_${++databases}`;
      const admin = new Client({ connectionString: url('postgres') });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      return url(name);
    },
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let shared: Promise<TestPostgres> | undefined;

/** The state store this run gives the apps the specs build (PEAKWATCH_TEST_STATE_STORE, default sqlite). */
export function testStateStoreKind(): 'sqlite' | 'postgres' {
  const kind = process.env['PEAKWATCH_TEST_STATE_STORE'] ?? 'sqlite';
  if (kind !== 'sqlite' && kind !== 'postgres')
    throw new Error(`PEAKWATCH_TEST_STATE_STORE=${kind}: expected sqlite or postgres`);
  return kind;
}

/**
 * The state store of the apps a spec builds: undefined (SQLite in their DATA_DIR) unless the run sets
 * PEAKWATCH_TEST_STATE_STORE=postgres, in which case each call gives a fresh database on one PostgreSQL per spec file
 * (stopped after the file by test/support/integration-setup.ts).
 */
export async function testDatabaseUrl(): Promise<string | undefined> {
  if (testStateStoreKind() === 'sqlite') return undefined;
  shared ??= startPostgres();
  return (await shared).database();
}

/** Stops the PostgreSQL of `testDatabaseUrl`, if this file started one. */
export async function stopSharedPostgres(): Promise<void> {
  const server = shared;
  shared = undefined;
  if (server) await (await server).stop();
}
