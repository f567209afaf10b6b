import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { deviceTopic } from '@peakwatch/contracts';
import { CredentialsRepository } from '@peakwatch/state';
import {
  REJECT_RECORDS_PER_MINUTE,
  REJECT_RECORD_BURST,
  Spool,
  SpoolService,
  type AppendCallback,
} from '@peakwatch/ingest';
import { Simulation, generate, loadScenario, runScenario, type Reading } from '@peakwatch/device-sim';
import type { InfluxClient } from '@peakwatch/influx';
import { freePort, onFreePorts } from '@peakwatch/process';
import { loadRegistry } from '@peakwatch/registry';
import { startInfluxd, type TestInfluxd } from '../support/influxd';
import { startMosquitto, type TestMosquitto } from '../support/mosquitto';
import { connectClient } from '../support/mqtt';
import { eventually } from '../support/processes';
import { scalar, spoolDrained, startIngest, waitForCount, type TestIngest } from '../support/ingest';

const SEEDS = join(__dirname, '../../seeds');
const registry = loadRegistry(join(SEEDS, 'sites'));

describe('ingest: MQTT to InfluxDB through the embedded broker', () => {
  let influxd: TestInfluxd;
  beforeAll(async () => {
    influxd = await startInfluxd();
  });
  afterAll(() => influxd?.stop());

  it('stores exactly the 10,465 readings the simulator published, with their tags, values and timestamps', async () => {
    const ingest = await startIngest(influxd, 'sim_10k');
    try {
      const scenario = { ...loadScenario(join(SEEDS, 'scenarios/haidian-campus.yaml')), faults: [] };
      const stepMs = scenario.intervalSeconds * 1000;
      const fromMs = Math.floor((Date.now() - 3 * 86_400_000) / stepMs) * stepMs;
      const toMs = fromMs + 454 * stepMs; // 455 readings × 23 devices = 10,465
      await runScenario({
        scenario,
        seed: 5,
        fromMs,
        toMs,
        speed: Number.POSITIVE_INFINITY,
        brokerUrl: ingest.mqttUrl,
        credentials: await ingest.secrets(),
        qos: 1,
        log: () => undefined,
      });
      const client = await influxd.client('sim_10k');
      expect(await waitForCount(() => scalar(client, 'SELECT count(seq) FROM telemetry'), 10_465)).toBe(
        10_465,
      );

      // What was published, regenerated from the same seed and window (the simulator is deterministic).
      const expected = new Map<string, Reading[]>();
      for (const item of generate(new Simulation(scenario, { seed: 5, fromMs }), toMs)) {
        if (item.type === 'reading')
          expected.set(item.deviceId, [...(expected.get(item.deviceId) ?? []), item.reading]);
      }
      const series = await client.query(
        'SELECT * FROM telemetry GROUP BY device, site, kind, role, district',
      );
      expect(series).toHaveLength(23);
      for (const s of series) {
        const { site, device } = registry.device(s.tags['device']!)!;
        expect(s.tags).toEqual({
          device: device.id,
          site: site.id,
          kind: device.kind,
          role: device.role,
          district: site.district,
        });
        const readings = expected.get(device.id)!;
        expect(s.rows).toHaveLength(readings.length);
        s.rows.forEach((row, i) => {
          const reading = readings[i]!;
          expect(row['time']).toBe(reading.ts);
          expect(row['seq']).toBe(reading.seq);
          for (const [metric, value] of Object.entries(reading.values)) expect(row[metric]).toBe(value);
        });
      }
      expect(await ingest.metric('peakwatch_ingest_readings_received_total')).toBe(10_465);
      expect(await ingest.metric('peakwatch_ingest_spool_records')).toBe(0);
    } finally {
      await ingest.close();
    }
  });

  describe('bad input is refused or rejected with its reason; the good readings around it are stored', () => {
    let ingest: TestIngest;
    let client: InfluxClient;
    let device: MqttClient;
    let secrets: Record<string, string>;
    const topic = deviceTopic('hd-b1', 'b1-lighting', 'telemetry');
    const good = (ts: number, seq: number): object => ({
      ts,
      seq,
      values: { energy_import_kwh: 100 + seq, power_kw: 12.5 },
    });

    beforeAll(async () => {
      ingest = await startIngest(influxd, 'bad_input', {
        MQTT_MAX_PAYLOAD_BYTES: '4096',
        INGEST_MAX_BATCH: '50',
      });
      client = await influxd.client('bad_input');
      secrets = await ingest.secrets(['b1-lighting', 'b1-power', 'dc1-it']);
      device = await connectClient(ingest.mqttUrl, {
        username: 'b1-lighting',
        password: secrets['b1-lighting']!,
        clientId: 'b1-lighting',
      });
    });
    afterAll(async () => {
      device?.end(true);
      await ingest?.close();
    });

    let caseNumber = 0;
    // the cases' windows hang off one instant, not each case's own "now": tests shuffled in between them cannot make
    // two cases' windows meet
    const casesBase = Date.now() - 30 * 60_000;
    const rejectCount = (reason: string): Promise<number> =>
      scalar(client, `SELECT sum("count") FROM ingest_reject WHERE reason = '${reason}'`);

    it.each<[string, (ts: number) => string | Buffer, string]>([
      ['malformed JSON', () => '{"ts": 1, "values": {', 'malformed_json'],
      ['NaN (not JSON)', (ts) => `{"ts": ${ts}, "values": {"power_kw": NaN}}`, 'malformed_json'],
      ['a string value', (ts) => JSON.stringify({ ts, values: { power_kw: 'NaN' } }), 'bad_value'],
      ['an unknown metric', (ts) => JSON.stringify({ ts, values: { voltage_v: 230 } }), 'unknown_metric'],
      [
        'a far-future timestamp',
        (ts) => JSON.stringify({ ts: ts + 86_400_000, values: { power_kw: 1 } }),
        'timestamp_in_future',
      ],
      [
        'a timestamp beyond the horizon',
        (ts) => JSON.stringify({ ts: ts - 40 * 86_400_000, values: { power_kw: 1 } }),
        'timestamp_too_old',
      ],
      [
        'an unparseable timestamp',
        () => JSON.stringify({ ts: 'yesterday', values: { power_kw: 1 } }),
        'bad_timestamp',
      ],
      ['a negative seq', (ts) => JSON.stringify({ ts, seq: -1, values: { power_kw: 1 } }), 'bad_seq'],
      ['empty values', (ts) => JSON.stringify({ ts, values: {} }), 'no_values'],
      [
        'an unexpected key',
        (ts) => JSON.stringify({ ts, values: { power_kw: 1 }, unit: 'kW' }),
        'bad_envelope',
      ],
      ['a reading that is not an object', () => '[42]', 'bad_envelope'],
      ['an empty batch', () => '[]', 'bad_envelope'],
      [
        'a payload over 4 KiB',
        (ts) => JSON.stringify({ ts, values: { power_kw: 1 }, pad: 'x'.repeat(5000) }),
        'payload_too_large',
      ],
      [
        'a batch of 51 readings (limit 50)',
        (ts) =>
          JSON.stringify(Array.from({ length: 51 }, (_, i) => ({ ts: ts - i, values: { power_kw: 1 } }))),
        'batch_too_large',
      ],
    ])('%s → %s', async (_name, bad, reason) => {
      const before = await rejectCount(reason);
      // a window of its own for each case, half an hour back: clear of every other test's readings, in any order
      const ts = casesBase - ++caseNumber * 10_000;
      await device.publishAsync(topic, JSON.stringify(good(ts - 1000, 1)), { qos: 1 });
      await device.publishAsync(topic, bad(ts), { qos: 1 });
      await device.publishAsync(topic, JSON.stringify(good(ts + 1000, 2)), { qos: 1 });
      expect(await waitForCount(() => rejectCount(reason), before + 1)).toBe(before + 1);
      const stored = () =>
        scalar(
          client,
          `SELECT count(power_kw) FROM telemetry WHERE device = 'b1-lighting' AND time >= ${ts - 1000}ms AND time <= ${ts + 1000}ms`,
        );
      expect(await waitForCount(stored, 2)).toBe(2);
      expect(
        await ingest.metric('peakwatch_ingest_rejected_total', `reason="${reason}"`),
      ).toBeGreaterThanOrEqual(1);
    });

    it('keeps the good readings of a batch and rejects the bad one by index', async () => {
      const ts = Date.now() - 600_000; // clear of the cases' windows (half an hour back) and the other tests'
      const batch = [good(ts, 10), { ts: ts + 1, values: { power_kw: 'high' } }, good(ts + 2, 11)];
      await device.publishAsync(topic, JSON.stringify(batch), { qos: 1 });
      expect(
        await waitForCount(
          () =>
            scalar(
              client,
              `SELECT count(power_kw) FROM telemetry WHERE device = 'b1-lighting' AND time >= ${ts}ms AND time <= ${ts + 2}ms`,
            ),
          2,
        ),
      ).toBe(2);
      const [reject] = await client.query(
        `SELECT detail, excerpt FROM ingest_reject WHERE reason = 'bad_value' ORDER BY time DESC LIMIT 1`,
      );
      expect(reject?.rows[0]?.['detail']).toBe('reading 1: power_kw = "high"');
      expect(String(reject?.rows[0]?.['excerpt'])).toContain('"power_kw":"high"');
    });

    it('refuses a wrong secret at connection time', async () => {
      const refusedBefore = await ingest.metric(
        'peakwatch_mqtt_connections_refused_total',
        'reason="bad_credentials"',
      );
      await expect(
        connectClient(ingest.mqttUrl, { username: 'b1-power', password: 'not-the-secret' }),
      ).rejects.toThrow(/Not authorized|Bad username or password/);
      await expect(connectClient(ingest.mqttUrl, { username: 'nobody', password: 'x' })).rejects.toThrow();
      await expect(connectClient(ingest.mqttUrl)).rejects.toThrow();
      expect(
        await ingest.metric('peakwatch_mqtt_connections_refused_total', 'reason="bad_credentials"'),
      ).toBe(refusedBefore + 3);
    });

    it("refuses a device publishing on another device's topic, records it, and closes its connection", async () => {
      const before = await rejectCount('topic_not_allowed');
      const intruder = await connectClient(ingest.mqttUrl, {
        username: 'b1-power',
        password: secrets['b1-power']!,
      });
      const closed = new Promise<void>((resolve) => intruder.once('close', () => resolve()));
      intruder.publish(
        deviceTopic('hd-dc1', 'dc1-it', 'telemetry'),
        JSON.stringify(good(Date.now() - 5000, 1)),
        { qos: 1 },
      );
      await closed;
      intruder.end(true);
      expect(await waitForCount(() => rejectCount('topic_not_allowed'), before + 1)).toBe(before + 1);
      expect(await scalar(client, `SELECT count(power_kw) FROM telemetry WHERE device = 'dc1-it'`)).toBe(0);
    });

    it('records one rejection per message and reason, and holds a flooding device to its budget of records', async () => {
      const flooder = await connectClient(ingest.mqttUrl, {
        username: 'dc1-it',
        password: secrets['dc1-it']!,
      });
      const floodTopic = deviceTopic('hd-dc1', 'dc1-it', 'telemetry');
      const records = () =>
        scalar(client, `SELECT count("count") FROM ingest_reject WHERE device = 'dc1-it'`);
      const rejected = () => scalar(client, `SELECT sum("count") FROM ingest_reject WHERE device = 'dc1-it'`);
      const unrecorded = () =>
        ingest.metric('peakwatch_ingest_rejects_unrecorded_total', 'reason="bad_value"');
      const ts = Date.now() - 4 * 3_600_000; // clear of every other test's readings
      const started = Date.now();
      // 50 bad readings in one message of about 2 kB: one record that counts 50, not 50 records
      const batch = Array.from({ length: 50 }, (_, i) => ({ ts: ts + i, values: { power_kw: 'x' } }));
      await flooder.publishAsync(floodTopic, JSON.stringify(batch), { qos: 1 });
      expect(await waitForCount(records, 1)).toBe(1);
      expect(await rejected()).toBe(50);
      // 200 bad messages more: each acknowledged and counted, but recorded only while the device's budget lasts
      const unrecordedBefore = await unrecorded();
      for (let i = 0; i < 200; i++)
        await flooder.publishAsync(
          floodTopic,
          JSON.stringify({ ts: ts + 100 + i, values: { power_kw: 'x' } }),
          {
            qos: 1,
          },
        );
      await flooder.endAsync();
      expect(await spoolDrained(ingest.config.http.port)).toBe(true);
      const recorded = (await records()) - 1;
      const refilled = Math.ceil(((Date.now() - started) / 60_000) * REJECT_RECORDS_PER_MINUTE);
      expect(recorded).toBeGreaterThanOrEqual(REJECT_RECORD_BURST - 1);
      expect(recorded).toBeLessThanOrEqual(REJECT_RECORD_BURST - 1 + refilled);
      expect((await unrecorded()) - unrecordedBefore).toBe(200 - recorded);
      // and the other devices are heard as before
      const good1 = Date.now() - 4 * 3_600_000;
      await device.publishAsync(topic, JSON.stringify(good(good1, 901)), { qos: 1 });
      expect(
        await waitForCount(
          () =>
            scalar(
              client,
              `SELECT count(power_kw) FROM telemetry WHERE device = 'b1-lighting' AND time = ${good1}ms`,
            ),
          1,
        ),
      ).toBe(1);
    });

    it('keeps a client id with its identity when that identity reconnects with it', async () => {
      const connect = (username: string) =>
        connectClient(ingest.mqttUrl, {
          username,
          password: secrets[username]!,
          clientId: 'b1-power-gateway',
        }).then(
          (client) => client,
          (error: Error) => error.message,
        );
      const first = await connect('b1-power');
      const second = await connect('b1-power'); // replaces the first connection, as MQTT says
      expect(typeof second).not.toBe('string');
      await new Promise((r) => setTimeout(r, 200)); // the first connection's close is handled
      const intruder = await connect('dc1-it');
      if (typeof intruder !== 'string') intruder.end(true);
      expect(intruder).toMatch(/Not authorized|Bad username or password/);
      for (const c of [first, second]) if (typeof c !== 'string') c.end(true);
    });

    it("does not let a device take another device's client id: the holder stays connected", async () => {
      const refusedBefore = await ingest.metric(
        'peakwatch_mqtt_connections_refused_total',
        'reason="client_id_taken"',
      );
      const offline = new Promise<boolean>((resolve) => {
        device.once('close', () => resolve(true));
        setTimeout(() => resolve(false), 1_000).unref();
      });
      // b1-power, with its own valid secret, asks for b1-lighting's client id (if let in, it is closed at once)
      const attempt = await connectClient(ingest.mqttUrl, {
        username: 'b1-power',
        password: secrets['b1-power']!,
        clientId: 'b1-lighting',
      }).then(
        (intruder) => (intruder.end(true), 'connected'),
        (error: Error) => error.message,
      );
      expect(attempt).toMatch(/Not authorized|Bad username or password/);
      expect(await offline).toBe(false);
      expect(device.connected).toBe(true);
      // and b1-lighting's next reading is acknowledged as before
      // (three hours back: clear of every other test's readings)
      await device.publishAsync(topic, JSON.stringify(good(Date.now() - 3 * 3_600_000, 900)), { qos: 1 });
      expect(
        await ingest.metric('peakwatch_mqtt_connections_refused_total', 'reason="client_id_taken"'),
      ).toBe(refusedBefore + 1);
    });

    it('closes a connection within seconds once its secret is rotated or deleted, wherever that was done', async () => {
      const { CredentialsRepository } = await import('@peakwatch/state');
      const { StateStore } = await import('@peakwatch/state');
      // another instance on the same state store, as the API or the command line would be: nothing in memory shared
      const elsewhere = new CredentialsRepository(ingest.app.get(StateStore));
      const first = await elsewhere.issue('b2-power', 'device', 'hd-b2');
      const connection = async (secret: string) => {
        const client = await connectClient(ingest.mqttUrl, { username: 'b2-power', password: secret });
        return { client, closed: new Promise<void>((resolve) => client.once('close', () => resolve())) };
      };
      const before = await connection(first);
      const second = await elsewhere.issue('b2-power', 'device', 'hd-b2');
      await before.closed; // within MQTT_CREDENTIAL_CHECK_MS (5 s) of the rotation; the test's timeout bounds it
      before.client.end(true);
      await expect(connection(first)).rejects.toThrow(/Not authorized|Bad username or password/);
      const after = await connection(second);
      expect(await elsewhere.delete('b2-power', 'device')).toBe(true);
      await after.closed;
      after.client.end(true);
      await expect(connection(second)).rejects.toThrow(/Not authorized|Bad username or password/);
    });

    it("does not let a device subscribe to another device's topics", async () => {
      // SUBACK 0x80 (failure) for the others; mqtt.js turns it into a rejected promise
      await expect(device.subscribeAsync('energy/v1/hd-dc1/dc1-it/telemetry', { qos: 1 })).rejects.toThrow(
        /Subscribe error/,
      );
      await expect(device.subscribeAsync('energy/v1/+/+/telemetry', { qos: 1 })).rejects.toThrow(
        /Subscribe error/,
      );
      const granted = await device.subscribeAsync('energy/v1/hd-b1/b1-lighting/status', { qos: 1 });
      expect(granted.map((g) => g.qos)).toEqual([1]);
    });

    it("refuses a service client writing a device's readings: services publish alerts only", async () => {
      const { CredentialsRepository } = await import('@peakwatch/state');
      const before = await rejectCount('topic_not_allowed');
      const secret = await ingest.app.get(CredentialsRepository).issue('gateway', 'service', null);
      const gateway = await connectClient(ingest.mqttUrl, { username: 'gateway', password: secret });
      const closed = new Promise<void>((resolve) => gateway.once('close', () => resolve()));
      gateway.publish(
        'energy/v1/hd-b1/b1-lighting/telemetry',
        JSON.stringify(good(Date.now() - 7000, 4321)),
        {
          qos: 1,
        },
      );
      await closed;
      gateway.end(true);
      expect(await waitForCount(() => rejectCount('topic_not_allowed'), before + 1)).toBe(before + 1);
      expect(
        await scalar(
          client,
          `SELECT count(power_kw) FROM telemetry WHERE device = 'b1-lighting' AND power_kw = 4321`,
        ),
      ).toBe(0);
    });

    it('stores lifecycle events and validates them', async () => {
      const eventTopic = deviceTopic('hd-b1', 'b1-lighting', 'event');
      const ts = Date.now() - 30_000;
      await device.publishAsync(
        eventTopic,
        JSON.stringify({
          ts,
          type: 'meter_replaced',
          final: { energy_import_kwh: 98765.4 },
          start: { energy_import_kwh: 0 },
        }),
        { qos: 1 },
      );
      await device.publishAsync(eventTopic, JSON.stringify({ ts, type: 'meter_exploded' }), { qos: 1 });
      expect(await waitForCount(() => rejectCount('bad_event'), 1)).toBe(1);
      const [event] = await client.query(
        `SELECT final_energy_import_kwh, start_energy_import_kwh FROM meter_event WHERE device = 'b1-lighting' AND "type" = 'meter_replaced'`,
      );
      expect(event?.rows).toEqual([
        { time: ts, final_energy_import_kwh: 98765.4, start_energy_import_kwh: 0 },
      ]);
    });

    it('rejects a status other than online/offline, and a topic outside the contract', async () => {
      const statusBefore = await rejectCount('bad_status');
      const topicBefore = await rejectCount('bad_topic');
      await device.publishAsync(deviceTopic('hd-b1', 'b1-lighting', 'status'), 'sleeping', { qos: 1 });
      // under its own prefix, so the broker lets it through, but not one of the contract's channels
      await device.publishAsync('energy/v1/hd-b1/b1-lighting/debug', JSON.stringify(good(Date.now(), 1)), {
        qos: 1,
      });
      expect(await waitForCount(() => rejectCount('bad_status'), statusBefore + 1)).toBe(statusBefore + 1);
      expect(await waitForCount(() => rejectCount('bad_topic'), topicBefore + 1)).toBe(topicBefore + 1);
    });

    it('treats the same reading sent twice as one point, once both copies are stored', async () => {
      const ts = Date.now() - 90_000;
      const payload = JSON.stringify(good(ts, 77));
      expect(await spoolDrained(ingest.config.http.port)).toBe(true); // nothing else on its way
      const storedBefore = await ingest.metric('peakwatch_ingest_lines_stored_total');
      await device.publishAsync(topic, payload, { qos: 1 });
      await device.publishAsync(topic, payload, { qos: 1 });
      // both copies written to InfluxDB (each acknowledged only once in the spool, then drained), not just the first
      expect(
        await waitForCount(() => ingest.metric('peakwatch_ingest_lines_stored_total'), storedBefore + 2),
      ).toBeGreaterThanOrEqual(storedBefore + 2);
      expect(await spoolDrained(ingest.config.http.port)).toBe(true);
      expect(
        await scalar(
          client,
          `SELECT count(seq) FROM telemetry WHERE device = 'b1-lighting' AND time = ${ts}ms`,
        ),
      ).toBe(1);
    });
  });

  it('throttles a flood of wrong secrets without verifying them, and keeps serving the devices it knows', async () => {
    const ingest = await startIngest(influxd, 'auth_flood');
    try {
      const secrets = await ingest.secrets(['b1-grid', 'b1-hvac']);
      const refused = (reason: string) =>
        ingest.metric('peakwatch_mqtt_connections_refused_total', `reason="${reason}"`);
      // a device that has connected before
      (await connectClient(ingest.mqttUrl, { username: 'b1-grid', password: secrets['b1-grid']! })).end(true);
      // 30 wrong secrets for b1-hvac: verified for the first 10 (its budget), refused at once after
      for (let i = 0; i < 30; i++)
        await connectClient(ingest.mqttUrl, { username: 'b1-hvac', password: `guess-${i}` }).then(
          (client) => client.end(true),
          () => undefined,
        );
      expect(await refused('bad_credentials')).toBe(10);
      expect(await refused('auth_throttled')).toBe(20);
      // b1-hvac's own secret is refused too until its budget refills (a device that had connected would not be)
      await expect(
        connectClient(ingest.mqttUrl, { username: 'b1-hvac', password: secrets['b1-hvac']! }),
      ).rejects.toThrow(/Not authorized|Bad username or password/);
      // the known device connects and is acknowledged as before
      const known = await connectClient(ingest.mqttUrl, {
        username: 'b1-grid',
        password: secrets['b1-grid']!,
      });
      await known.publishAsync(
        deviceTopic('hd-b1', 'b1-grid', 'telemetry'),
        JSON.stringify({ ts: Date.now() - 60_000, values: { power_kw: 5 } }),
        { qos: 1 },
      );
      await known.endAsync();
    } finally {
      await ingest.close();
    }
  });

  describe('the embedded broker holds every client to its limits, before CONNECT too', () => {
    let ingest: TestIngest;
    let secrets: Record<string, string>;
    const refused = (reason: string) =>
      ingest.metric('peakwatch_mqtt_connections_refused_total', `reason="${reason}"`);
    /** A raw TCP socket to the broker, closed when the test is done; resolves once connected. */
    const sockets: Socket[] = [];
    const rawSocket = (): Promise<Socket> =>
      new Promise((resolve) => {
        const socket = createConnection({ host: '127.0.0.1', port: ingest.config.mqtt.port }, () =>
          resolve(socket),
        );
        socket.on('error', () => undefined);
        sockets.push(socket);
      });
    const closedBy = (socket: Socket, limitMs: number): Promise<boolean> =>
      new Promise((resolve) => {
        if (socket.destroyed) return resolve(true);
        socket.once('close', () => resolve(true));
        setTimeout(() => resolve(false), limitMs).unref();
      });

    beforeAll(async () => {
      ingest = await startIngest(influxd, 'limits', {
        MQTT_MAX_PAYLOAD_BYTES: '4096',
        MQTT_MAX_CONNECTIONS: '3',
      });
      secrets = await ingest.secrets(['b1-hvac', 'b1-special']);
    });
    afterEach(async () => {
      const open = sockets.splice(0);
      for (const s of open) s.destroy();
      // the broker's side closes a moment after ours: free the places before the next test
      await Promise.all(open.map((s) => closedBy(s, 1_000)));
      await new Promise((r) => setTimeout(r, 200));
    });
    afterAll(async () => {
      await ingest?.close();
    });

    it('closes a connection whose first packet announces 100 MB, before reading it', async () => {
      const before = await refused('packet_too_large');
      const socket = await rawSocket();
      // a CONNECT fixed header: type 0x10, remaining length 100,000,000 (four bytes), and nothing more
      socket.write(Buffer.from([0x10, 0x80, 0xc2, 0xd7, 0x2f]));
      expect(await closedBy(socket, 5_000)).toBe(true);
      expect(await refused('packet_too_large')).toBe(before + 1);
    });

    it('counts sockets from accept: silent sockets take the places, and a device beyond them is refused', async () => {
      const before = await refused('too_many_connections');
      await Promise.all([rawSocket(), rawSocket(), rawSocket()]);
      const fourth = await connectClient(ingest.mqttUrl, {
        username: 'b1-hvac',
        password: secrets['b1-hvac']!,
        connectTimeout: 2_000,
      }).then(
        (client) => (client.end(true), 'connected'),
        (error: Error) => error.message,
      );
      expect(fourth).not.toBe('connected');
      expect(await refused('too_many_connections')).toBeGreaterThan(before);
    });

    it("keeps a device's reading unretained and passes on nothing outside the contract", async () => {
      const device = await connectClient(ingest.mqttUrl, {
        username: 'b1-special',
        password: secrets['b1-special']!,
      });
      const telemetry = deviceTopic('hd-b1', 'b1-special', 'telemetry');
      const good = JSON.stringify({ ts: Date.now() - 60_000, values: { power_kw: 3 } });
      await device.publishAsync(telemetry, good, { qos: 1, retain: true });
      // an observer that subscribes afterwards gets no retained telemetry
      const observerSecret = await ingest.app
        .get(CredentialsRepository)
        .issue('limits-observer', 'service', null);
      const observer = await connectClient(ingest.mqttUrl, {
        username: 'limits-observer',
        password: observerSecret,
      });
      const seen: string[] = [];
      observer.on('message', (topic, payload, packet) =>
        seen.push(`${topic} ${packet.retain ? 'retained' : 'live'} ${payload.length}`),
      );
      await observer.subscribeAsync('energy/v1/hd-b1/b1-special/#', { qos: 1 });
      // then an oversized message and one on a topic outside the contract, then a good one
      await device.publishAsync(telemetry, JSON.stringify({ ts: Date.now(), pad: 'x'.repeat(5000) }), {
        qos: 1,
      });
      await device.publishAsync(`${telemetry}/extra`, good, { qos: 1 });
      await device.publishAsync(telemetry, good, { qos: 1 });
      for (let i = 0; i < 100 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 200));
      expect(seen).toEqual([`${telemetry} live ${good.length}`]);
      await device.endAsync();
      await observer.endAsync();
    });
  });

  it('stores the good lines of a spool frame InfluxDB refuses, and keeps the one bad line in the dead-letter log', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'peakwatch-dead-letter-'));
    const ingest = await startIngest(influxd, 'dead_letter', { DATA_DIR: dataDir });
    try {
      const spool = ingest.app.get(SpoolService);
      const append = (lines: string[]): Promise<void> =>
        new Promise((resolve, reject) =>
          spool.append(lines.join('\n'), (error) => (error ? reject(error) : resolve())),
        );
      const point = (i: number, value: string): string =>
        `probe,device=d1 v=${value} ${1_700_000_000_000 + i}`;
      await append([point(0, '1.5')]); // v is a float field from here on
      expect(await spoolDrained(ingest.config.http.port)).toBe(true);
      // One frame of seven lines; InfluxDB refuses the integer one (field type conflict) with a 400.
      const bad = point(4, '7i');
      await append(
        [1, 2, 3].map((i) => point(i, `${i}.5`)).concat(bad, ...[5, 6, 7].map((i) => point(i, `${i}.5`))),
      );
      expect(await spoolDrained(ingest.config.http.port)).toBe(true);

      const client = await influxd.client('dead_letter');
      const [series] = await client.query('SELECT v FROM probe');
      expect(series!.rows.map((row) => row['v'])).toEqual([1.5, 1.5, 2.5, 3.5, 5.5, 6.5, 7.5]);
      expect(readFileSync(join(dataDir, 'spool', 'dead-letter.log'), 'utf8')).toBe(`${bad}\n`);
      expect(await ingest.metric('peakwatch_ingest_lines_dead_lettered_total')).toBe(1);
    } finally {
      await ingest.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

/**
 * `total` readings of the campus's devices from an hour ago, one QoS 1 message each, published without waiting for
 * their acknowledgements (a backlog at the broker).
 */
function publishReadings(publisher: MqttClient, total: number): void {
  const start = Date.now() - 3_600_000;
  for (let i = 0; i < total; i++) {
    const { site, device } = registry.devices()[i % 22]!;
    const reading = { ts: start + i, seq: i, values: { energy_import_kwh: i, power_kw: 1 } };
    publisher.publish(deviceTopic(site.id, device.id, 'telemetry'), JSON.stringify(reading), { qos: 1 });
  }
}

describe('ingest: external broker (mosquitto) with two replicas on a shared subscription', () => {
  let influxd: TestInfluxd;
  let mosquitto: TestMosquitto;
  beforeAll(async () => {
    [influxd, mosquitto] = await Promise.all([startInfluxd(), startMosquitto()]);
  });
  afterAll(async () => {
    await Promise.all([influxd?.stop(), mosquitto?.stop()]);
  });

  it('stores every reading exactly once, the load split between the replicas', async () => {
    const env = { MQTT_URL: mosquitto.url };
    const [a, b] = [await startIngest(influxd, 'external', env), await startIngest(influxd, 'external', env)];
    const publisher = await connectClient(mosquitto.url, { clientId: 'publisher' });
    try {
      const total = 2000;
      publishReadings(publisher, total);
      const client = await influxd.client('external');
      expect(await waitForCount(() => scalar(client, 'SELECT count(seq) FROM telemetry'), total)).toBe(total);
      const [ra, rb] = [
        await a.metric('peakwatch_ingest_readings_received_total'),
        await b.metric('peakwatch_ingest_readings_received_total'),
      ];
      expect(ra + rb).toBe(total); // each message handled by exactly one replica
      expect(ra).toBeGreaterThan(0);
      expect(rb).toBeGreaterThan(0);
    } finally {
      await publisher.endAsync();
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('ingest: a backlog on the external broker', () => {
  // a broker of its own: the sessions of another test's replicas would still take their share of the subscription
  let influxd: TestInfluxd;
  let mosquitto: TestMosquitto;
  beforeAll(async () => {
    [influxd, mosquitto] = await Promise.all([startInfluxd(), startMosquitto()]);
  });
  afterAll(async () => {
    await Promise.all([influxd?.stop(), mosquitto?.stop()]);
  });

  it('drains a backlog queued for its session without taking the busy broker for gone', async () => {
    // a keepalive of 1 s: the answer to a ping waits behind the backlog (several seconds of messages); mqtt.js alone
    // would give the broker up after 1.5 s, reconnect and take the messages in flight again, over and over
    const env = { MQTT_URL: mosquitto.url, MQTT_KEEPALIVE_SECONDS: '1' };
    const ingest = await startIngest(influxd, 'backlog', env);
    const publisher = await connectClient(mosquitto.url, { clientId: 'backlog-publisher' });
    try {
      const total = 12_000;
      publishReadings(publisher, total);
      const client = await influxd.client('backlog');
      expect(await waitForCount(() => scalar(client, 'SELECT count(seq) FROM telemetry'), total)).toBe(total);
      // one connection from start to end, every message handled once
      expect(await ingest.metric('peakwatch_mqtt_external_connections_total')).toBe(1);
      expect(await ingest.metric('peakwatch_ingest_readings_received_total')).toBe(total);
    } finally {
      await publisher.endAsync();
      await ingest.close();
    }
  });
});

describe('ingest: TLS listener (mqtts)', () => {
  let influxd: TestInfluxd;
  let dir: string;
  beforeAll(async () => {
    influxd = await startInfluxd();
    dir = mkdtempSync(join(tmpdir(), 'peakwatch-tls-'));
    // A self-signed certificate for 127.0.0.1 (openssl comes with Debian's ca-certificates).
    const made = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { encoding: 'utf8' },
    );
    if (made.status !== 0) throw new Error(`openssl failed (apt-get install -y openssl): ${made.stderr}`);
  });
  afterAll(async () => {
    await influxd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts a device over mqtts with the configured certificate and stores its reading', async () => {
    // a port found free may be taken before the listener binds it: then another one
    const { tlsPort, ingest } = await onFreePorts(async () => {
      const tlsPort = await freePort();
      const ingest = await startIngest(influxd, 'tls', {
        MQTT_TLS_CERT: join(dir, 'cert.pem'),
        MQTT_TLS_KEY: join(dir, 'key.pem'),
        MQTTS_PORT: String(tlsPort),
      });
      return { tlsPort, ingest };
    });
    try {
      const secrets = await ingest.secrets(['b1-grid']);
      const device = await connectClient(`mqtts://127.0.0.1:${tlsPort}`, {
        username: 'b1-grid',
        password: secrets['b1-grid']!,
        ca: readFileSync(join(dir, 'cert.pem')),
      });
      const ts = Date.now() - 10_000;
      await device.publishAsync(
        deviceTopic('hd-b1', 'b1-grid', 'telemetry'),
        JSON.stringify({ ts, seq: 1, values: { power_kw: 42 } }),
        { qos: 1 },
      );
      await device.endAsync();
      const client = await influxd.client('tls');
      expect(await waitForCount(() => scalar(client, 'SELECT count(power_kw) FROM telemetry'), 1)).toBe(1);
      // a client that does not trust the certificate is refused by TLS itself
      await expect(
        connectClient(`mqtts://127.0.0.1:${tlsPort}`, { username: 'b1-grid', password: secrets['b1-grid']! }),
      ).rejects.toThrow(/self[- ]signed/);
    } finally {
      await ingest.close();
    }
  });
});

describe('ingest: the acknowledgement follows the spool', () => {
  let influxd: TestInfluxd;
  const original = Spool.prototype.append;
  beforeAll(async () => {
    influxd = await startInfluxd();
  });
  afterAll(async () => {
    Spool.prototype.append = original;
    await influxd?.stop();
  });

  it('sends the PUBACK of a QoS 1 reading only once the spool has made it durable', async () => {
    // The real spool, with its answer to ingest held back for a moment after the record is on disk: a PUBACK sent
    // before ingest had that answer would arrive while `durable` is still false.
    const events: string[] = [];
    Spool.prototype.append = function (this: Spool, record: string, done: AppendCallback): void {
      original.call(this, record, (error) => {
        events.push('on disk');
        setTimeout(() => {
          events.push('durable');
          done(error);
        }, 300);
      });
    };
    const dataDir = mkdtempSync(join(tmpdir(), 'peakwatch-puback-'));
    const ingest = await startIngest(influxd, 'puback', { DATA_DIR: dataDir });
    try {
      const secret = (await ingest.secrets(['b1-grid']))['b1-grid']!;
      const device = await connectClient(ingest.mqttUrl, { username: 'b1-grid', password: secret });
      const ts = Date.now() - 60_000;
      await device.publishAsync(
        deviceTopic('hd-b1', 'b1-grid', 'telemetry'),
        JSON.stringify({ ts, seq: 424242, values: { power_kw: 1.5 } }),
        { qos: 1 },
      );
      events.push('puback');
      await device.endAsync();
      expect(events.slice(0, 3)).toEqual(['on disk', 'durable', 'puback']);
      // and the record is in the spool's segment on disk
      const spoolDir = join(dataDir, 'spool');
      const segments = readdirSync(spoolDir).filter((f) => f.startsWith('segment-'));
      expect(segments.some((f) => readFileSync(join(spoolDir, f)).includes('seq=424242i'))).toBe(true);
    } finally {
      Spool.prototype.append = original;
      await ingest.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
  it('acknowledges a message of the external broker only once it is durable: one held at the crash comes again', async () => {
    // The spool's answer for one reading never comes (as if the process died during its fdatasync). Had ingest
    // acknowledged the message to mosquitto before that answer, mosquitto would not send it again, and the reading,
    // never written, would be lost.
    const mosquitto = await startMosquitto();
    const held: string[] = [];
    Spool.prototype.append = function (this: Spool, record: string, done: AppendCallback): void {
      if (record.includes('seq=515151i')) held.push(record);
      else original.call(this, record, done);
    };
    const dataDir = mkdtempSync(join(tmpdir(), 'peakwatch-puback-external-'));
    const env = { DATA_DIR: dataDir, MQTT_URL: mosquitto.url };
    let ingest = await startIngest(influxd, 'puback_external', env);
    try {
      const publisher = await connectClient(mosquitto.url, { clientId: 'publisher' });
      await publisher.publishAsync(
        deviceTopic('hd-b1', 'b1-grid', 'telemetry'),
        JSON.stringify({ ts: Date.now() - 60_000, seq: 515151, values: { power_kw: 2.5 } }),
        { qos: 1 },
      );
      await publisher.endAsync();
      expect(await eventually(() => held.length === 1, 10_000)).toBe(true);
      await ingest.close(); // the process is gone with the message unanswered
      Spool.prototype.append = original;
      ingest = await startIngest(influxd, 'puback_external', env); // the same DATA_DIR: the same session
      const client = await influxd.client('puback_external');
      expect(
        await waitForCount(
          () => scalar(client, 'SELECT count(power_kw) FROM telemetry WHERE seq = 515151'),
          1,
        ),
      ).toBe(1);
    } finally {
      Spool.prototype.append = original;
      await ingest.close();
      await mosquitto.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
