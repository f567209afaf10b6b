import { loadConfig } from '@peakwatch/config';
import { StateStore } from '@peakwatch/state';

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
