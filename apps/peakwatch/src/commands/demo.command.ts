import { resolve } from 'node:path';
import { loadConfig, type AppConfig } from '@peakwatch/config';
import { ManagedInfluxd } from '@peakwatch/influx';
import { canConnect, freePort } from '@peakwatch/process';
import { createApp, onShutdownSignal } from '@peakwatch/runtime';
import { ALL_APPS } from '../all-apps';
import { UsageError } from '../usage.error';

/** Port of the demo's own influxd when INFLUX_URL is unset. */
export const DEMO_INFLUX_PORT = 8086;

/**
 * `peakwatch demo`: starts a private influxd with its data under DATA_DIR/influxdb, then the all-in-one process with
 * the embedded broker, and prints the endpoints. SIGINT/SIGTERM stop both; influxd is also killed by the kernel if
 * this process dies (see ManagedProcess).
 */
export async function demoCommand(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const influxUrl = new URL(env['INFLUX_URL'] ?? `http://127.0.0.1:${DEMO_INFLUX_PORT}`);
  if (!['127.0.0.1', 'localhost'].includes(influxUrl.hostname) || influxUrl.protocol !== 'http:') {
    throw new UsageError(
      `demo runs its own influxd on loopback; INFLUX_URL=${influxUrl.toString()} is not http://127.0.0.1:<port>. ` +
        'Use `peakwatch start` to run against an existing InfluxDB.',
    );
  }
  const config = loadConfig({ ...env, INFLUX_URL: influxUrl.origin });
  const httpPort = Number(influxUrl.port || 80);
  if (await canConnect(httpPort)) {
    throw new Error(
      `port ${httpPort} is already in use, so the demo cannot start its influxd there. ` +
        `Stop what listens on it, or choose another port: INFLUX_URL=http://127.0.0.1:${await freePort()} npm run demo`,
    );
  }
  const influxd = await ManagedInfluxd.start({
    dataDir: resolve(config.dataDir, 'influxdb'),
    httpPort,
    rpcPort: await freePort(),
  });
  let app;
  try {
    app = await createApp(config, ALL_APPS);
  } catch (error) {
    await influxd.stop();
    throw error;
  }
  onShutdownSignal(async () => {
    await app.close();
    await influxd.stop();
  }, config.shutdownTimeoutMs);
  process.stdout.write(endpoints(config));
}

function endpoints(config: AppConfig): string {
  const local = (host: string): string => (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);
  const mqtt = config.mqtt.url ?? `mqtt://${local(config.mqtt.host)}:${config.mqtt.port}`;
  const http = `http://${local(config.http.host)}:${config.http.port}`;
  return [
    'PeakWatch demo is running. Press Ctrl-C to stop everything.',
    `  MQTT broker   ${mqtt}  (devices publish to energy/v1/{siteId}/{deviceId}/telemetry)`,
    `  HTTP          ${http}/health  ${http}/api/v1`,
    `  InfluxDB      ${config.influx.url}  database "${config.influx.database}"`,
    `  Data          ${config.dataDir}`,
    '',
  ].join('\n');
}
