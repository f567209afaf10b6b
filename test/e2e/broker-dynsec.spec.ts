import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IClientOptions, MqttClient } from 'mqtt';
import { CredentialsRepository } from '@peakwatch/state';
import { MosquittoDynsec } from '@peakwatch/mqtt';
import { StateStore } from '@peakwatch/state';
import { CLI, ROOT, buildDist } from '../support/build';
import { connectClient } from '../support/mqtt';
import { startMosquitto, type TestMosquitto } from '../support/mosquitto';
import { childEnv } from '../support/processes';

// The external broker of docs/deployment.md: a real mosquitto with its dynamic security plugin, set up by
// `peakwatch broker dynsec-init` and provisioned by `peakwatch device secret`. Each refusal below is an attack that
// the static ACL file shipped before let through or that a device on an unprovisioned broker could make.
const ADMIN = { username: 'peakwatch-admin', password: 'admin-pw-4c1f9e2a7b-5d3e8f1029' };
const SERVICE = { username: 'peakwatch-ingest', password: 'ingest-pw-93d0b6e1f5' };
const OWN = 'energy/v1/hd-b1/b1-lighting/telemetry';
const reading = JSON.stringify({ ts: 1_780_000_000_000, values: { power_kw: 1 } });

describe('external broker: Mosquitto dynamic security provisioned by PeakWatch', () => {
  let dir: string;
  let mosquitto: TestMosquitto;
  const open: MqttClient[] = [];

  const env = (mqttUrl: string): NodeJS.ProcessEnv => ({
    DATA_DIR: dir,
    SEEDS_DIR: join(ROOT, 'seeds'),
    MQTT_URL: mqttUrl,
    MQTT_USERNAME: SERVICE.username,
    MQTT_PASSWORD: SERVICE.password,
    MQTT_DYNSEC_USERNAME: ADMIN.username,
    MQTT_DYNSEC_PASSWORD: ADMIN.password,
  });
  const cli = (args: string[], mqttUrl = mosquitto.url) =>
    spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', env: childEnv(env(mqttUrl)) });
  /** Issues (or rotates) a device's secret with the command line, as an operator does. */
  const issue = (deviceId: string): string => {
    const run = cli(['device', 'secret', 'hd-b1', deviceId]);
    if (run.status !== 0) throw new Error(`device secret ${deviceId}: ${run.stderr}`);
    return run.stdout.trimEnd().split('\n').at(-1)!;
  };
  const login = async (username: string, password: string, options: IClientOptions = {}) => {
    const client = await connectClient(mosquitto.url, { username, password, protocolVersion: 5, ...options });
    open.push(client);
    return client;
  };
  const closed = (client: MqttClient): Promise<void> =>
    new Promise((resolve) => (client.connected ? client.once('close', () => resolve()) : resolve()));
  const secrets: Record<string, string> = {};

  beforeAll(async () => {
    buildDist();
    dir = await mkdtemp(join(tmpdir(), 'peakwatch-dynsec-'));
    const file = join(dir, 'dynamic-security.json');
    // the broker is not running yet: the init command writes a file, it does not connect
    const init = cli(['broker', 'dynsec-init', file], 'mqtt://127.0.0.1:1');
    expect(init.status).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const written = readFileSync(file, 'utf8');
    for (const secret of [ADMIN.password, SERVICE.password]) expect(written).not.toContain(secret);
    mosquitto = await startMosquitto({ dynsecFile: file });
    // a device of its own for each test that changes or relies on one, so that no order of the tests matters
    for (const device of ['b1-lighting', 'b1-power', 'b1-special', 'b1-hvac', 'b1-grid'])
      secrets[device] = issue(device);
  });
  afterAll(async () => {
    for (const client of open) client.end(true);
    await mosquitto?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('lets a device in with the secret PeakWatch issued, and no one with a wrong one or none', async () => {
    await login('b1-lighting', secrets['b1-lighting']!);
    await expect(login('b1-lighting', secrets['b1-power']!)).rejects.toThrow(
      /Bad User Name or Password|Not authorized/,
    );
    await expect(connectClient(mosquitto.url, { protocolVersion: 5 })).rejects.toThrow(
      /Bad User Name or Password|Not authorized/,
    );
    // a name PeakWatch never issued
    await expect(login('dc1-it', 'guess-0123456789')).rejects.toThrow(
      /Bad User Name or Password|Not authorized/,
    );
  });

  it("holds a device to its own topics: another device's, alerts and `#` are refused", async () => {
    const device = await login('b1-special', secrets['b1-special']!);
    // its own telemetry: acknowledged (reason code 0)
    await expect(
      device.publishAsync('energy/v1/hd-b1/b1-special/telemetry', reading, { qos: 1 }),
    ).resolves.toBeDefined();
    // MQTT 5: a publish the broker refuses is answered with reason code 0x87, not authorised
    for (const topic of [
      OWN, // b1-lighting's readings, which would feed its reports
      'energy/v1/hd-dc1/b1-special/telemetry', // its own id under another site
      'alerts/v1/haidian/hd-b1', // a forged alert
      '$CONTROL/dynamic-security/v1', // the broker's own administration
    ])
      await expect(device.publishAsync(topic, reading, { qos: 1 })).rejects.toThrow(/Not authorized/);
    for (const filter of [
      '#',
      'energy/v1/+/+/telemetry',
      'energy/v1/hd-b1/b1-lighting/#',
      'alerts/v1/#',
      '$SYS/#',
      '$share/g/energy/v1/#',
      '$CONTROL/dynamic-security/#',
    ])
      await expect(device.subscribeAsync(filter, { qos: 1 })).rejects.toThrow(/Not authorized/);
    const granted = await device.subscribeAsync('energy/v1/hd-b1/b1-special/status', { qos: 1 });
    expect(granted.map((g) => g.qos)).toEqual([1]);
  });

  it("lets PeakWatch's own client read every device through a shared subscription, and write no readings", async () => {
    const ingest = await login(SERVICE.username, SERVICE.password);
    await ingest.subscribeAsync('$share/peakwatch/energy/v1/+/+/telemetry', { qos: 1 });
    const received = new Promise<string>((resolve) => ingest.once('message', (topic) => resolve(topic)));
    const device = await login('b1-lighting', secrets['b1-lighting']!, {
      clientId: 'b1-lighting-reader-test',
    });
    await device.publishAsync(OWN, reading, { qos: 1 });
    expect(await received).toBe(OWN);
    await expect(ingest.publishAsync(OWN, reading, { qos: 1 })).rejects.toThrow(/Not authorized/);
  });

  it("holds a grid operator to its district's demand-response requests, which PeakWatch's client reads", async () => {
    const run = cli(['dr-operator', 'secret', 'grid-haidian', 'haidian']);
    expect(run.status).toBe(0);
    const operator = await login('grid-haidian', run.stdout.trimEnd().split('\n').at(-1)!);
    const peakwatch = await login(SERVICE.username, SERVICE.password, { clientId: 'peakwatch-dr-test' });
    await peakwatch.subscribeAsync('$share/peakwatch-dr/dr/v1/+/requests', { qos: 1 });
    const received = new Promise<string>((resolve) => peakwatch.once('message', (topic) => resolve(topic)));
    await operator.publishAsync('dr/v1/haidian/requests', '{}', { qos: 1 });
    expect(await received).toBe('dr/v1/haidian/requests');
    for (const topic of ['dr/v1/chaoyang/requests', 'alerts/v1/haidian/hd-b1', OWN])
      await expect(operator.publishAsync(topic, reading, { qos: 1 })).rejects.toThrow(/Not authorized/);
    for (const filter of ['#', 'dr/v1/#', 'alerts/v1/#'])
      await expect(operator.subscribeAsync(filter, { qos: 1 })).rejects.toThrow(/Not authorized/);
    // a device may not send a request; the command line refuses a district without sites
    const device = await login('b1-grid', secrets['b1-grid']!);
    await expect(device.publishAsync('dr/v1/haidian/requests', '{}', { qos: 1 })).rejects.toThrow(
      /Not authorized/,
    );
    const unknown = cli(['dr-operator', 'secret', 'grid-x', 'nowhere']);
    expect([unknown.status, unknown.stderr]).toEqual([
      2,
      expect.stringContaining('district nowhere: no site'),
    ]);
  });

  it('closes a connection when its secret is rotated, and takes only the new secret afterwards', async () => {
    const before = secrets['b1-hvac']!;
    const device = await login('b1-hvac', before, { clientId: 'b1-hvac-rotated' });
    const ended = closed(device);
    secrets['b1-hvac'] = issue('b1-hvac');
    await ended;
    await expect(login('b1-hvac', before)).rejects.toThrow(/Bad User Name or Password|Not authorized/);
    await login('b1-hvac', secrets['b1-hvac']);
  });

  it('issues nothing when the broker cannot be reached: the old secret keeps working, no secret is printed', async () => {
    const run = cli(['device', 'secret', 'hd-b1', 'b1-grid'], 'mqtt://127.0.0.1:1');
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/cannot reach the broker/);
    expect(run.stdout).toBe('');
    for (const secret of [ADMIN.password, SERVICE.password]) expect(run.stderr).not.toContain(secret);
    await login('b1-grid', secrets['b1-grid']!, { clientId: 'b1-grid-after-failed-rotation' });
  });

  it("refuses to issue a secret over the broker's admin client: PeakWatch keeps its hold on the broker", async () => {
    const run = cli(['service', 'secret', ADMIN.username]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/the broker's admin client/);
    expect(run.stdout).toBe('');
    // the admin still provisions
    secrets['b1-lighting'] = issue('b1-lighting');
    await login('b1-lighting', secrets['b1-lighting'], { clientId: 'b1-lighting-after-admin-attempt' });
  });

  it('closes a connection when its secret is deleted, and lets it in no more', async () => {
    const device = await login('b1-power', secrets['b1-power']!, { clientId: 'b1-power-deleted' });
    const ended = closed(device);
    const store = await StateStore.open({ kind: 'sqlite', file: join(dir, 'peakwatch.sqlite') });
    const credentials = new CredentialsRepository(store, new MosquittoDynsec(mosquitto.url, ADMIN));
    try {
      expect(await credentials.delete('b1-power', 'device')).toBe(true);
    } finally {
      await credentials.onApplicationShutdown();
      await store.close();
    }
    await ended;
    await expect(login('b1-power', secrets['b1-power']!)).rejects.toThrow(
      /Bad User Name or Password|Not authorized/,
    );
  });
});
