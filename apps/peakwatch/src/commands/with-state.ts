import { loadConfig } from '@peakwatch/config';
import { AuditLog, StateStore, type AuditEntry } from '@peakwatch/state';

/**
 * Runs a command's work with the state store of the configuration (DATABASE_URL, or SQLite in DATA_DIR), closing it
 * afterwards. InfluxDB settings are not required.
 */
export async function withStateStore<T>(work: (store: StateStore) => Promise<T>): Promise<T> {
  const config = loadConfig(process.env, process.cwd(), { influx: false });
  const store = await StateStore.open(config.stateStore);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

/** Records a change made from the command line in the audit log (the actor is `cli`: whoever runs it on the host). */
export function auditFromCli(store: StateStore, entry: Omit<AuditEntry, 'actor' | 'role'>): Promise<void> {
  return new AuditLog(store).record({ actor: 'cli', role: 'operator', ...entry });
}
