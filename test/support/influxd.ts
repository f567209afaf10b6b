import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InfluxClient, ManagedInfluxd } from '@peakwatch/influx';
import { freePort, onFreePorts } from '@peakwatch/process';
import { watchForOrphaning } from './orphan-watchdog';

export interface TestInfluxd {
  url: string;
  pid: number;
  dataDir: string;
  /** A client on a fresh database (created) of this server. */
  client(database?: string): Promise<InfluxClient>;
  /** Stops the server but keeps its data (an outage); `start` brings it back on the same port. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A private influxd (Debian `influxdb`) on free loopback ports with a temporary data directory. Throws with the
 * install command when influxd is missing; never skips. Call `stop()` in afterAll (it also removes the directory);
 * if the test process dies instead, the kernel kills influxd (ManagedProcess).
 */
export async function startInfluxd(): Promise<TestInfluxd> {
  watchForOrphaning();
  const dataDir = await mkdtemp(join(tmpdir(), 'peakwatch-influxd-'));
  const { influxd: first, options } = await onFreePorts(async () => {
    const options = { dataDir, httpPort: await freePort(), rpcPort: await freePort() };
    return { influxd: await ManagedInfluxd.start(options), options };
  });
  let influxd = first;
  let databases = 0;
  return {
    url: influxd.url,
    get pid() {
      return influxd.process.pid;
    },
    dataDir,
    async client(database = `test_${++databases}`) {
      const client = new InfluxClient({ url: influxd.url, database });
      await client.ensureDatabase();
      return client;
    },
    async pause() {
      await influxd.stop();
    },
    async resume() {
      influxd = await ManagedInfluxd.start(options);
    },
    async stop() {
      await influxd.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
