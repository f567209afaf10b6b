import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManagedProcess, requireBinary } from '@peakwatch/process';

export interface ManagedInfluxdOptions {
  /** Holds meta/, data/, wal/ and influxd.conf. */
  dataDir: string;
  /** HTTP API port on loopback. */
  httpPort: number;
  /** RPC (backup/restore) port on loopback; must differ from httpPort. */
  rpcPort: number;
  /** How long to wait for /ping (ms). */
  readyTimeoutMs?: number;
  /**
   * For a city (over about 8,000 sites, each some 120 series with its KPIs): the disk-based series index (tsi1) and
   * no cap on series per database. influxd 1.x's defaults (in-memory index, 1,000,000 series) refuse writes beyond the
   * cap (docs/deployment.md, "InfluxDB at city scale").
   */
  cityScale?: boolean;
}

/**
 * A private influxd 1.x (Debian package `influxdb`) on loopback, with its data in `dataDir`: the demo's time-series
 * store and the test harness's. Every listener is bound to 127.0.0.1, usage reporting is off, and nothing but the
 * HTTP API is enabled (docs/measurements.md: it starts in about a second).
 */
export class ManagedInfluxd {
  private constructor(
    readonly url: string,
    readonly process: ManagedProcess,
  ) {}

  static async start(options: ManagedInfluxdOptions): Promise<ManagedInfluxd> {
    const binary = requireBinary('influxd');
    mkdirSync(options.dataDir, { recursive: true });
    const configPath = join(options.dataDir, 'influxd.conf');
    writeFileSync(configPath, influxdConfig(options));
    const url = `http://127.0.0.1:${options.httpPort}`;
    const process = await ManagedProcess.start({
      name: 'influxd',
      command: binary,
      args: ['-config', configPath],
      ready: async () => (await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1_000) })).ok,
      ...(options.readyTimeoutMs ? { readyTimeoutMs: options.readyTimeoutMs } : {}),
    });
    return new ManagedInfluxd(url, process);
  }

  stop(): Promise<void> {
    return this.process.stop();
  }
}

function influxdConfig({ dataDir, httpPort, rpcPort, cityScale }: ManagedInfluxdOptions): string {
  const dir = (name: string): string => JSON.stringify(join(dataDir, name));
  return `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"

[meta]
  dir = ${dir('meta')}

[data]
  dir = ${dir('data')}
  wal-dir = ${dir('wal')}
  query-log-enabled = false
${cityScale ? '  index-version = "tsi1"\n  max-series-per-database = 0\n' : ''}
[monitor]
  store-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:${httpPort}"
  auth-enabled = false
  log-enabled = false
  pprof-enabled = false

[logging]
  level = "warn"

[continuous_queries]
  enabled = false
`;
}
