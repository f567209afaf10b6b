import { ConfigError, loadConfig } from '@peakwatch/config';
import { createApp, type AppDefinition } from './create-app';
import { onShutdownSignal } from './shutdown';

/**
 * Entry point of a process configured only by the environment: validates the config (a bad one exits 1 with every
 * bad key listed), starts the apps, and shuts down cleanly on SIGINT/SIGTERM.
 */
export async function runApps(apps: readonly AppDefinition[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const app = await createApp(config, apps);
  onShutdownSignal(() => app.close(), config.shutdownTimeoutMs);
  process.stderr.write(
    `peakwatch ${apps.map((a) => a.name).join(', ')}: http://${config.http.host}:${config.http.port}\n`,
  );
}

/** `void runApps(...)` with failures reported on standard error and exit code 1. */
export function main(apps: readonly AppDefinition[]): void {
  runApps(apps).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
