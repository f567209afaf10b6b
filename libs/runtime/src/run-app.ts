import { ConfigError, loadConfig } from '@peakwatch/config';
import { createApp, type AppDefinition } from './create-app';
import { onShutdownSignal } from './shutdown';

/**
 * Starts a process configured only by the environment: validates the config (throwing {@link ConfigError} with every
 * bad key listed), starts the apps, and shuts down cleanly on SIGINT/SIGTERM.
 */
export async function runApps(
  apps: readonly AppDefinition[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const config = loadConfig(env);
  const app = await createApp(config, apps);
  onShutdownSignal(() => app.close(), config.shutdownTimeoutMs);
  process.stderr.write(
    `peakwatch ${apps.map((a) => a.name).join(', ')}: http://${config.http.host}:${config.http.port}\n`,
  );
}

/** Entry point of one app run alone: `runApps` with failures on standard error and exit code 1. */
export function main(apps: readonly AppDefinition[]): void {
  runApps(apps).catch((error: unknown) => {
    const message =
      error instanceof ConfigError
        ? error.message
        : error instanceof Error
          ? (error.stack ?? error.message)
          : String(error);
    process.stderr.write(`${message}\n`);
    process.exit(1);
  });
}
