import { ManagedPostgres } from '@peakwatch/state';
import { watchForOrphaning } from './orphan-watchdog';

export interface TestPostgres {
  port: number;
  /** A fresh, empty database on this server: its postgres:// URL. */
  database(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * A private PostgreSQL on a free loopback port (ManagedPostgres), stopped with the jest run that started it even if
 * that run is killed.
 */
export async function startPostgres(): Promise<TestPostgres> {
  watchForOrphaning();
  return ManagedPostgres.start();
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
