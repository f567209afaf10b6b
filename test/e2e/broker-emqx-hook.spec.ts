import type { Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import supertest from 'supertest';
import { API_APP } from '@peakwatch/api';
import { INGEST_APP } from '@peakwatch/ingest';
import { CredentialsRepository } from '@peakwatch/state';
import { createApp } from '@peakwatch/runtime';
import { startInfluxd, type TestInfluxd } from '../support/influxd';
import { testConfig } from '../support/ingest';

// EMQX 5 asks an HTTP service whether a client may connect, publish or subscribe, and takes only HTTP 200 with
// {"result": "allow" | "deny"} as an answer (a 4xx or 5xx means "ignore": the next authenticator decides). The
// requests below are the bodies docs/contracts.md ("External brokers") tells EMQX to send; no EMQX runs here (it is
// not packaged for Debian), so this spec is EMQX's side of the exchange.
const TOKEN = 'hook-token-7f3a9c1e5b2d4f6a8c0e1b3d5f7a9c1e';
const HOOK = '/api/v1/broker/emqx';

describe('EMQX HTTP authentication and authorization answered by PeakWatch', () => {
  let influxd: TestInfluxd;
  let dataDir: string;
  let app: INestApplication;
  let http: ReturnType<typeof supertest>;
  const secrets: Record<string, string> = {};
  const logs: string[] = [];

  beforeAll(async () => {
    influxd = await startInfluxd();
    dataDir = await mkdtemp(join(tmpdir(), 'peakwatch-emqx-'));
    const config = await testConfig(influxd.url, 'emqx', dataDir, {
      BROKER_HOOK_TOKEN: TOKEN,
      LOG_LEVEL: 'info',
    });
    app = await createApp(config, [INGEST_APP, API_APP], {
      log: { write: (line: string) => logs.push(line) },
    });
    http = supertest(app.getHttpServer() as Server);
    const credentials = app.get(CredentialsRepository);
    secrets['b1-power'] = await credentials.issue('b1-power', 'device', 'hd-b1');
    secrets['peakwatch-ingest'] = await credentials.issue('peakwatch-ingest', 'service', null);
    secrets['grid-haidian'] = await credentials.issue('grid-haidian', 'dr_operator', 'haidian');
  });
  afterAll(async () => {
    await app?.close();
    await influxd?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const ask = (path: 'authenticate' | 'authorize', body: object, token: string | null = TOKEN) => {
    const request = http.post(`${HOOK}/${path}`);
    if (token !== null) request.set('X-PeakWatch-Hook-Token', token);
    return request.send(body);
  };
  /** EMQX's verdict: a deny must be a 200 too, or EMQX would pass the client on to its next authenticator. */
  const verdict = async (path: 'authenticate' | 'authorize', body: object): Promise<string> => {
    const response = await ask(path, body);
    expect(response.status).toBe(200);
    expect(response.body).not.toHaveProperty('is_superuser', true);
    return (response.body as { result: string }).result;
  };

  it("lets in a device with its PeakWatch secret and PeakWatch's own client; no one else", async () => {
    const connect = (username: string, password: string) =>
      verdict('authenticate', { username, password, clientid: `${username}-1`, peerhost: '10.0.0.7' });
    expect(await connect('b1-power', secrets['b1-power']!)).toBe('allow');
    expect(await connect('peakwatch-ingest', secrets['peakwatch-ingest']!)).toBe('allow');
    expect(await connect('b1-power', secrets['peakwatch-ingest']!)).toBe('deny');
    expect(await connect('b1-lighting', 'guess-0123456789')).toBe('deny'); // registered, never issued a secret
    expect(await connect('nobody', '')).toBe('deny');
  });

  it("holds a device to its own topics: another device's, another site's, alerts and `#` are denied", async () => {
    const may = (action: string, topic: string, username = 'b1-power') =>
      verdict('authorize', { username, clientid: `${username}-1`, topic, action });
    expect(await may('publish', 'energy/v1/hd-b1/b1-power/telemetry')).toBe('allow');
    expect(await may('subscribe', 'energy/v1/hd-b1/b1-power/status')).toBe('allow');
    for (const topic of [
      'energy/v1/hd-b1/b1-lighting/telemetry',
      'energy/v1/hd-dc1/b1-power/telemetry',
      'alerts/v1/haidian/hd-b1',
    ])
      expect(await may('publish', topic)).toBe('deny');
    for (const filter of [
      '#',
      'energy/v1/+/+/telemetry',
      'energy/v1/hd-b1/b1-lighting/#',
      '$share/g/energy/v1/#',
    ])
      expect(await may('subscribe', filter)).toBe('deny');
    // PeakWatch's client reads every device (shared) and publishes alerts, but writes no readings
    expect(await may('subscribe', '$share/peakwatch/energy/v1/+/+/telemetry', 'peakwatch-ingest')).toBe(
      'allow',
    );
    expect(await may('publish', 'alerts/v1/haidian/hd-b1', 'peakwatch-ingest')).toBe('allow');
    expect(await may('publish', 'energy/v1/hd-b1/b1-power/telemetry', 'peakwatch-ingest')).toBe('deny');
    expect(await may('publish', 'energy/v1/hd-b1/b1-lighting/telemetry', 'b1-lighting')).toBe('deny'); // no secret
  });

  it("holds a grid operator to its district's demand-response requests", async () => {
    const may = (action: string, topic: string, username = 'grid-haidian') =>
      verdict('authorize', { username, clientid: `${username}-1`, topic, action });
    expect(await may('publish', 'dr/v1/haidian/requests')).toBe('allow');
    for (const topic of [
      'dr/v1/chaoyang/requests',
      'alerts/v1/haidian/hd-b1',
      'energy/v1/hd-b1/b1-power/telemetry',
    ])
      expect(await may('publish', topic)).toBe('deny');
    for (const filter of ['#', 'dr/v1/haidian/requests', 'alerts/v1/#', '$share/g/energy/v1/#'])
      expect(await may('subscribe', filter)).toBe('deny');
    // PeakWatch's client reads the requests; a device may not send one
    expect(await may('subscribe', '$share/peakwatch-dr/dr/v1/+/requests', 'peakwatch-ingest')).toBe('allow');
    expect(await may('publish', 'dr/v1/haidian/requests', 'peakwatch-ingest')).toBe('deny');
    expect(await may('publish', 'dr/v1/haidian/requests', 'b1-power')).toBe('deny');
  });

  it('ends what a session may do once its secret is rotated or deleted, and keeps devices off PeakWatch client ids', async () => {
    const credentials = app.get(CredentialsRepository);
    const old = await credentials.issue('b1-grid', 'device', 'hd-b1');
    const login = (password: string, clientid = 'b1-grid-7') =>
      verdict('authenticate', { username: 'b1-grid', password, clientid, peerhost: '10.0.0.8' });
    const publish = () =>
      verdict('authorize', {
        username: 'b1-grid',
        clientid: 'b1-grid-7',
        topic: 'energy/v1/hd-b1/b1-grid/telemetry',
        action: 'publish',
      });
    expect(await login(old)).toBe('allow');
    expect(await publish()).toBe('allow');
    const rotated = await credentials.issue('b1-grid', 'device', 'hd-b1');
    expect(await publish()).toBe('deny'); // EMQX then disconnects it (deny_action = disconnect)
    expect(await login(old)).toBe('deny');
    expect(await login(rotated)).toBe('allow');
    expect(await publish()).toBe('allow');
    expect(await credentials.delete('b1-grid', 'device')).toBe(true);
    expect(await publish()).toBe('deny');
    // the alerts service's client id: taking it would knock PeakWatch's own client offline
    const again = await credentials.issue('b1-grid', 'device', 'hd-b1');
    expect(await login(again, 'peakwatch-alerts-1')).toBe('deny');
  });

  it('answers only EMQX: a wrong or missing token is 401, a malformed request 400 naming the field', async () => {
    const body = {
      username: 'b1-power',
      password: secrets['b1-power'],
      clientid: 'b1-power-1',
      peerhost: '10.0.0.7',
    };
    expect((await ask('authenticate', body, 'hook-token-wrong-0000000000000000000')).status).toBe(401);
    expect((await ask('authenticate', body, null)).status).toBe(401);
    const bad = await ask('authorize', {
      username: 'b1-power',
      clientid: 'b1-power-1',
      topic: 'energy/v1/x',
      action: 'delete',
    });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ field: 'action' });
    // and nothing the hook answers carries the secret it was sent
    expect(JSON.stringify((await ask('authenticate', body)).body)).not.toContain(secrets['b1-power']);
  });

  it('logs the connections it denied without the token or the password they carried', async () => {
    const password = 'wrong-password-5e1c7a9b3d';
    const denied = { username: 'b1-power', password, clientid: 'b1-power-9', peerhost: '10.0.0.9' };
    expect(await verdict('authenticate', denied)).toBe('deny');
    const log = logs.join('');
    expect(log).toContain('EMQX connection denied');
    expect(log).toContain(`${HOOK}/authenticate`);
    expect(log).toContain('"x-peakwatch-hook-token":"[redacted]"');
    for (const secret of [TOKEN, password, ...Object.values(secrets)]) expect(log).not.toContain(secret);
  });
});
