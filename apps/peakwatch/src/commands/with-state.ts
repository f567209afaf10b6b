import { loadConfig, type AppConfig } from '@peakwatch/config';
import { StateStore } from '@peakwatch/state';

/**
 * Runs a command's work with the state store of the configuration (DATABASE_URL, or SQLite in DATA_DIR), closing it
 * afterwards. InfluxDB settings are required only when the work needs them.
 */
export async function withStateStore<T>(
  work: (store: StateStore, config: AppConfig) => Promise<T>,
  { influx = false }: { influx?: boolean } = {},
): Promise<T> {
  const config = loadConfig(process.env, process.cwd(), { influx });
  const store = await StateStore.open(config.stateStore);
  try {
    return await work(store, config);
  } finally {
    await store.close();
  }
}
