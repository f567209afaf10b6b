import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MqttClient } from 'mqtt';
import { deviceTopic } from '@peakwatch/contracts';
import type { InfluxClient } from '@peakwatch/influx';
import { MosquittoDynsec, dynsecInitialConfig } from '@peakwatch/mqtt';
import { freePort } from '@peakwatch/process';
import { startInfluxd, type TestInfluxd } from '../support/influxd';
import { ROOT, CLI, buildDist } from '../support/build';
import { connectClient } from '../support/mqtt';
import { metricOf, scalar, startIngest, waitForCount } from '../support/ingest';
import { startMosquitto, type TestMosquitto } from '../support/mosquitto';
import { childEnv, eventually } from '../support/processes';

const TOPIC = deviceTopic('hd-b1', 'b1-lighting', 'telemetry');

/** Publishes one QoS 1 reading per call with seq = i and ts = start + i; remembers which were acknowledged. */
function readingStream(client: MqttClient, start: number) {
  const acked = new Set<number>();
  let next = 0;
  return {
    acked,
    get sent() {
      return next;
    },
    publish(): void {
      const seq = next++;
      client.publish(
        TOPIC,
        JSON.stringify({ ts: start + seq, seq, values: { energy_import_kwh: seq / 10, power_kw: 5 } }),
        { qos: 1 },
        (error) => {
          if (!error) acked.add(seq);
        },
      );
    },
  };
}

/** The built ingest app as its own process, as deployed; resolves once GET /health on `httpPort` answers 200. */
async function startIngestProcess(env: NodeJS.ProcessEnv, httpPort: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(ROOT, 'dist/apps/ingest/src/main.js')], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const up = await eventually(async () => {
    try {
      return (await fetch(`http://127.0.0.1:${httpPort}/health`)).status === 200;
    } catch {
      return false;
    }
  }, 30_000);
  if (!up) throw new Error(`ingest did not start:\n${stderr}`);
  return child;
}

/**
 * Every reading of a stream (seq 0 .. total − 1 at start + seq) is stored once, at its own time, and nothing else is.
 * InfluxDB keeps one point per series and time, so a reading written again (after an outage or a crash) hides as the
 * same point, which is harmless; a reading stored under other tags or at another time would be a point more.
 */
async function expectEachStoredOnce(client: InfluxClient, start: number, total: number): Promise<void> {
  const [series] = await client.query('SELECT seq FROM telemetry');
  const rows = series!.rows.map((row) => [row['time'], row['seq']] as const);
  expect(rows).toHaveLength(total);
  expect(rows.filter(([time, seq]) => time !== start + (seq as number))).toEqual([]);
  expect(new Set(rows.map(([, seq]) => seq)).size).toBe(total);
}

describe('ingest durability', () => {
  let influxd: TestInfluxd;
  beforeAll(async () => {
    influxd = await startInfluxd();
  });
  afterAll(() => influxd?.stop());

  it('keeps every reading through a 30 s InfluxDB outage: nothing lost, nothing duplicated', async () => {
    const ingest = await startIngest(influxd, 'outage');
    const secrets = await ingest.secrets(['b1-lighting']);
    const device = await connectClient(ingest.mqttUrl, {
      username: 'b1-lighting',
      password: secrets['b1-lighting']!,
    });
    const client = await influxd.client('outage');
    const start = Date.now() - 3_600_000;
    const stream = readingStream(device, start);
    const publishFor = async (ms: number): Promise<void> => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        for (let i = 0; i < 20; i++) stream.publish();
        await sleep(100); // 200 readings/s
      }
    };
    try {
      await publishFor(3_000);
      await influxd.pause();
      await publishFor(30_000);
      // acknowledged while InfluxDB was down: they wait in the spool
      expect(await ingest.metric('peakwatch_ingest_spool_records')).toBeGreaterThan(1000);
      const health = await fetch(`http://127.0.0.1:${ingest.config.http.port}/health`);
      expect(health.status).toBe(503);
      expect(await health.json()).toMatchObject({ checks: { influx: 'down', spool: 'up' } });
      await influxd.resume();
      await publishFor(3_000);
      expect(await eventually(() => stream.acked.size === stream.sent, 10_000)).toBe(true);
      const total = stream.sent;
      expect(
        await waitForCount(() => scalar(client, `SELECT count(seq) FROM telemetry`), total, 60_000),
      ).toBe(total);
      await expectEachStoredOnce(client, start, total);
      expect(await ingest.metric('peakwatch_ingest_spool_records')).toBe(0);
    } finally {
      await device.endAsync();
      await ingest.close();
    }
  });

  it('withholds acknowledgements when the spool is at its budget, says so, and resumes without loss', async () => {
    const ingest = await startIngest(influxd, 'budget', { SPOOL_MAX_BYTES: '20000' });
    const secrets = await ingest.secrets(['b1-lighting']);
    const device = await connectClient(ingest.mqttUrl, {
      username: 'b1-lighting',
      password: secrets['b1-lighting']!,
    });
    const client = await influxd.client('budget');
    const stream = readingStream(device, Date.now() - 3_600_000);
    try {
      await influxd.pause();
      for (let i = 0; i < 400; i++) stream.publish(); // ≈ 200 bytes each: twice the budget
      expect(
        await eventually(async () => (await ingest.metric('peakwatch_ingest_spool_full')) === 1, 10_000),
      ).toBe(true);
      // What fitted the budget is acknowledged once on disk; then acknowledgements stop.
      let ackedWhileFull = -1;
      expect(
        await eventually(async () => {
          const settled = stream.acked.size === ackedWhileFull;
          ackedWhileFull = stream.acked.size;
          await sleep(500);
          return settled;
        }, 10_000),
      ).toBe(true);
      expect(ackedWhileFull).toBeGreaterThan(0);
      expect(ackedWhileFull).toBeLessThan(400);
      await sleep(1_000);
      expect(stream.acked.size).toBe(ackedWhileFull); // nothing more is acknowledged while full
      const health = await fetch(`http://127.0.0.1:${ingest.config.http.port}/health`);
      expect(await health.json()).toMatchObject({ checks: { spool: 'down' } });
      await influxd.resume();
      expect(await eventually(() => stream.acked.size === 400, 30_000)).toBe(true);
      expect(await waitForCount(() => scalar(client, 'SELECT count(seq) FROM telemetry'), 400)).toBe(400);
      expect(await ingest.metric('peakwatch_ingest_spool_full')).toBe(0);
    } finally {
      await device.endAsync(true);
      await ingest.close();
    }
  });

  describe('the ingest process killed with SIGKILL', () => {
    let dataDir: string;
    let ingest: ChildProcess | undefined;
    const env = (ports: { mqtt: number; http: number }): NodeJS.ProcessEnv =>
      childEnv({
        INFLUX_URL: influxd.url,
        INFLUX_DATABASE: 'killed',
        DATA_DIR: dataDir,
        SEEDS_DIR: join(ROOT, 'seeds'),
        MQTT_PORT: String(ports.mqtt),
        MQTT_HOST: '127.0.0.1',
        HTTP_PORT: String(ports.http),
        HTTP_HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
      });

    beforeAll(async () => {
      buildDist();
      dataDir = await mkdtemp(join(tmpdir(), 'peakwatch-killed-'));
    });
    afterAll(async () => {
      ingest?.kill('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    });

    const startProcess = (
      ports: { mqtt: number; http: number },
      extra: NodeJS.ProcessEnv = {},
    ): Promise<ChildProcess> => startIngestProcess({ ...env(ports), ...extra }, ports.http);

    it('stores every reading it acknowledged', async () => {
      const ports = { mqtt: await freePort(), http: await freePort() };
      const issued = spawnSync(process.execPath, [CLI, 'device', 'secret', 'hd-b1', 'b1-lighting'], {
        cwd: ROOT,
        encoding: 'utf8',
        env: env(ports),
      });
      expect(issued.status).toBe(0);
      const secret = issued.stdout.trimEnd().split('\n').at(-1)!;
      ingest = await startProcess(ports);
      const device = await connectClient(`mqtt://127.0.0.1:${ports.mqtt}`, {
        username: 'b1-lighting',
        password: secret,
        reconnectPeriod: 200,
      });
      device.on('error', () => undefined);
      const stream = readingStream(device, Date.now() - 3_600_000);
      let publishing = true;
      const pump = (async () => {
        while (publishing) {
          if (device.connected) for (let i = 0; i < 50; i++) stream.publish();
          await sleep(20); // up to 2,500 readings/s
        }
      })();
      expect(await eventually(() => stream.acked.size > 2_000, 30_000)).toBe(true);
      ingest.kill('SIGKILL'); // mid-stream
      const ackedBeforeKill = new Set(stream.acked);
      await sleep(500);
      ingest = await startProcess(ports);
      expect(await eventually(() => stream.acked.size > ackedBeforeKill.size + 1_000, 30_000)).toBe(true);
      publishing = false;
      await pump;
      await sleep(1_000);
      await device.endAsync(true);

      const client = await influxd.client('killed');
      const acked = [...stream.acked];
      expect(
        await waitForCount(() => scalar(client, 'SELECT count(seq) FROM telemetry'), acked.length, 60_000),
      ).toBeGreaterThanOrEqual(acked.length);
      const [series] = await client.query('SELECT seq FROM telemetry');
      const stored = new Set(series!.rows.map((r) => r['seq'] as number));
      const lost = acked.filter((seq) => !stored.has(seq));
      expect(lost).toEqual([]);
      expect([...ackedBeforeKill].every((seq) => stored.has(seq))).toBe(true);
    });
  });
  describe('external broker: mosquitto with dynamic security provisioned by PeakWatch, a replica killed', () => {
    const INGEST = { username: 'peakwatch-ingest', password: 'ingest-password-0123456789' };
    const ADMIN = { username: 'peakwatch-admin', password: 'admin-password-0123456789' };
    const DEVICE_PASSWORD = 'b1-lighting-password-0123456789';
    let mosquitto: TestMosquitto;
    let brokerDir: string;
    const replicas: { dir: string; http: number; child?: ChildProcess }[] = [];

    beforeAll(async () => {
      buildDist();
      brokerDir = await mkdtemp(join(tmpdir(), 'peakwatch-dynsec-'));
      const dynsecFile = join(brokerDir, 'dynamic-security.json');
      await writeFile(dynsecFile, JSON.stringify(dynsecInitialConfig(ADMIN, INGEST)));
      mosquitto = await startMosquitto({ dynsecFile });
      const accounts = new MosquittoDynsec(mosquitto.url, ADMIN);
      await accounts.put({ username: 'b1-lighting', role: 'device', scope: 'hd-b1' }, DEVICE_PASSWORD);
      await accounts.put({ username: 'b1-power', role: 'device', scope: 'hd-b1' }, 'b1-power-pw-0123');
      await accounts.close();
      for (let i = 0; i < 2; i++)
        replicas.push({
          dir: await mkdtemp(join(tmpdir(), `peakwatch-replica-${i}-`)),
          http: await freePort(),
        });
    });
    afterAll(async () => {
      for (const r of replicas) {
        r.child?.kill('SIGKILL');
        await rm(r.dir, { recursive: true, force: true });
      }
      await mosquitto?.stop();
      await rm(brokerDir, { recursive: true, force: true });
    });

    /** Replica i, each with its own DATA_DIR (its spool, and its persistent session's client id). */
    const startReplica = async (i: number): Promise<ChildProcess> => {
      const r = replicas[i]!;
      r.child = await startIngestProcess(
        childEnv({
          INFLUX_URL: influxd.url,
          INFLUX_DATABASE: 'external_killed',
          DATA_DIR: r.dir,
          SEEDS_DIR: join(ROOT, 'seeds'),
          MQTT_URL: mosquitto.url,
          MQTT_USERNAME: INGEST.username,
          MQTT_PASSWORD: INGEST.password,
          HTTP_PORT: String(r.http),
          HTTP_HOST: '127.0.0.1',
          LOG_LEVEL: 'warn',
        }),
        r.http,
      );
      return r.child;
    };

    it('refuses a device publishing under another device, and anyone without its password', async () => {
      await expect(
        connectClient(mosquitto.url, { username: 'b1-lighting', password: 'wrong' }),
      ).rejects.toThrow(/Not authorized|Bad username or password/);
      await expect(connectClient(mosquitto.url)).rejects.toThrow(/Not authorized|Bad username or password/);
      // MQTT 5: mosquitto answers a publish the ACL refuses with reason code 0x87 (not authorised)
      const intruder = await connectClient(mosquitto.url, {
        username: 'b1-power',
        password: 'b1-power-pw-0123',
        protocolVersion: 5,
      });
      try {
        await expect(
          intruder.publishAsync(TOPIC, JSON.stringify({ ts: Date.now(), values: { power_kw: 1 } }), {
            qos: 1,
          }),
        ).rejects.toThrow(/Not authorized|135/);
      } finally {
        await intruder.endAsync(true);
      }
    });

    it('stores every reading the broker acknowledged once, though a replica was killed mid-stream', async () => {
      await startReplica(0);
      await startReplica(1);
      const device = await connectClient(mosquitto.url, {
        username: 'b1-lighting',
        password: DEVICE_PASSWORD,
        reconnectPeriod: 200,
      });
      const start = Date.now() - 3_600_000;
      const stream = readingStream(device, start);
      let publishing = true;
      const pump = (async () => {
        while (publishing) {
          for (let i = 0; i < 50; i++) stream.publish();
          await sleep(20);
        }
      })();
      try {
        const received = (i: number): Promise<number> =>
          metricOf(replicas[i]!.http, 'peakwatch_ingest_readings_received_total');
        // both replicas take part before one of them dies
        expect(
          await eventually(async () => (await received(0)) > 500 && (await received(1)) > 500, 30_000),
        ).toBe(true);
        replicas[0]!.child!.kill('SIGKILL');
        const ackedBeforeKill = stream.acked.size;
        expect(await eventually(() => stream.acked.size > ackedBeforeKill + 1_000, 30_000)).toBe(true);
        await startReplica(0); // the same session: mosquitto hands it what the killed one never acknowledged
        expect(await eventually(() => stream.acked.size > ackedBeforeKill + 2_000, 30_000)).toBe(true);
      } finally {
        publishing = false;
        await pump;
      }
      expect(await eventually(() => stream.acked.size === stream.sent, 30_000)).toBe(true);
      await device.endAsync();

      const client = await influxd.client('external_killed');
      const total = stream.sent;
      expect(
        await waitForCount(() => scalar(client, 'SELECT count(seq) FROM telemetry'), total, 60_000),
      ).toBeGreaterThanOrEqual(total);
      await expectEachStoredOnce(client, start, total);
      for (const r of replicas) r.child?.kill('SIGTERM');
    });
  });
});
