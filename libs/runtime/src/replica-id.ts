import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StateStore } from '@peakwatch/state';

const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * This replica's id, stable across its restarts: `DATA_DIR/replica-id`, written at its first start. A replica is its
 * DATA_DIR (its ingest spool), so its broker session goes with it: replicas that share a PostgreSQL state store (one
 * installation id) still connect as distinct clients, and a restarted one takes its own session back with what the
 * broker kept for it. `first` gives the id of a first start (the installation id of a SQLite store, kept in the same
 * DATA_DIR, so that a single process keeps the session it had before this file existed).
 */
export function replicaId(dataDir: string, first: () => string = randomUUID): string {
  const file = join(dataDir, 'replica-id');
  try {
    const id = readFileSync(file, 'utf8').trim();
    if (ID.test(id)) return id;
  } catch {
    // the first start of this DATA_DIR
  }
  const id = first();
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${id}\n`);
  return id;
}

/**
 * This replica's id as its MQTT clients name themselves: a single process on SQLite keeps its installation's id (and
 * the broker sessions it had before this file existed); replicas sharing a PostgreSQL store each draw their own.
 */
export async function replicaOf(
  dataDir: string,
  state: Pick<StateStore, 'kind' | 'instanceId'>,
): Promise<string> {
  const installation = await state.instanceId();
  return replicaId(dataDir, () => (state.kind === 'sqlite' ? installation : randomUUID()));
}
