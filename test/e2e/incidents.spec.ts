import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import mqtt, { type ISubscriptionMap, type MqttClient } from 'mqtt';
import supertest from 'supertest';
import {
  ALERTS_APP,
  AlertEvaluator,
  IncidentDesk,
  OutboxDispatcher,
  type AlertNotification,
  type IncidentNotification,
} from '@peakwatch/alerts';
import { API_APP, ApiKeysRepository } from '@peakwatch/api';
import type { AppConfig } from '@peakwatch/config';
import { DevicePublishers, Simulation, loadScenario, type Outgoing } from '@peakwatch/device-sim';
import { INGEST_APP, PlatformMonitor } from '@peakwatch/ingest';
import { Registry } from '@peakwatch/registry';
import { Clock, HealthRegistry, createApp, stopSchedules } from '@peakwatch/runtime';
import { StateStore } from '@peakwatch/state';
import { HOUR, beijingMidnight } from '../support/calendar';
import { startInfluxd, type TestInfluxd } from '../support/influxd';
import { metricOf, spoolDrained, testConfig, waitForCount } from '../support/ingest';
import { startMosquitto, type TestMosquitto } from '../support/mosquitto';
import { eventually } from '../support/processes';
import { copySeeds } from '../support/seeds';
import { startReceiver, type TestReceiver } from '../support/webhooks';

const MIN = 60_000;
/** The simulated period begins at 10:00 on 10 March 2026 (any day would do: nothing here follows the calendar). */
const FROM = beijingMidnight('2026-03-10') + 10 * HOUR;
const at = (minutes: number): number => FROM + minutes * MIN;
const SECRET = 'test-webhook-secret-0123456789';
/** The broker is down from minute 40 to minute 70 of the period: 30 minutes. */
const BROKER_DOWN = [40, 70] as const;
/** b1's grid meter loses its 10:35 reading: it falls silent first, and opens the broker's incident alone. */
const FIRST = 'b1-grid';
/** Then the gateway of building 2 and, alone, b3's gas meter send nothing from minute 80 to minute 120. */
const GATEWAY_DOWN = [80, 120] as const;
const LONE = 'b3-gas';
/** One device behind the gateway stays silent until minute 135: failed on its own, when the others came back. */
const STRAGGLER = 'b2-hp2';
const STRAGGLER_BACK = 135;

type Body = AlertNotification | IncidentNotification;
const READINGS_RECEIVED = 'peakwatch_ingest_readings_received_total';

/**
 * Incidents end to end: the sample campus publishes through a real mosquitto to ingest (external-broker mode), the
 * evaluator runs every minute of virtual time, real receivers get the webhooks. The broker is stopped for 30 minutes
 * (every device goes silent): one incident per audience, opened and resolved, not one alert per device, and it is
 * PeakWatch's outage, not the sites'. Then a gateway declared in the registry fails: one incident of it; a meter silent
 * alone at the same time is told alone.
 */
describe('incidents: one notification per cause instead of one per alert', () => {
  // no faults (their gaps and refusals are other specs' subject); building 2's devices behind the gateway gw-b2
  const seeds = copySeeds({
    'scenarios/haidian-campus.yaml': [[/\nfaults:\n(?:( {2}[-#].*)?\n)*/, '\nfaults: []\n']],
    'sites/hd-b2.yaml': [[/( {2}- \{ id: b2-[^}]*?) \}/g, '$1, gateway: gw-b2 }']],
  });
  const dataDir = mkdtempSync(join(tmpdir(), 'peakwatch-incidents-'));
  // the product's clock: after the period (readings are never from its future); the test drives virtual time
  const clock = Clock.startingAt(FROM + 4 * HOUR);
  let influxd: TestInfluxd;
  let mosquitto: TestMosquitto;
  let receiver: TestReceiver<Body>;
  let config: AppConfig;
  let app: INestApplication;
  let publishers: DevicePublishers;
  let devices: string[];
  const outageRows: unknown[] = [];
  /** What each evaluation queued: at which minute, for whom. */
  const queued: { minute: number; what: string; audience: string }[] = [];
  const onMqtt: { topic: string; body: Body }[] = [];
  let observer: MqttClient;

  beforeAll(async () => {
    influxd = await startInfluxd();
    mosquitto = await startMosquitto();
    receiver = await startReceiver<Body>(SECRET);
    config = await testConfig(influxd.url, 'incidents', dataDir, {
      SEEDS_DIR: seeds,
      MQTT_URL: mosquitto.url,
      ALERT_WEBHOOKS: `facility_manager=${receiver.url}/fm,regulator@haidian=${receiver.url}/haidian`,
      ALERT_WEBHOOK_SECRET: SECRET,
    });
    app = await createApp(config, [INGEST_APP, ALERTS_APP, API_APP], { clock });
    stopSchedules(app); // the test runs the checks and evaluations at virtual times
    devices = app
      .get(Registry)
      .devices()
      .map((d) => d.device.id);

    const scenario = loadScenario(join(seeds, 'scenarios', 'haidian-campus.yaml'));
    const simulation = new Simulation(scenario, { seed: 7, fromMs: FROM });
    // devices connect anonymously: this mosquitto has no dynamic security (its subject is another spec's)
    publishers = new DevicePublishers({
      brokerUrl: mosquitto.url,
      credentials: Object.fromEntries(devices.map((d) => [d, 'anonymous'])),
      qos: 1,
      maxInFlight: 256,
    });
    const health = app.get(HealthRegistry);
    const brokerIs = async (state: 'up' | 'down'): Promise<boolean> =>
      (await health.report()).checks['broker'] === state;
    const monitor = app.get(PlatformMonitor);
    // an observer of the sites' alert topics (the outbox delivers as it queues): its session outlives the broker's
    // outage, and it subscribes again at every connection (mosquitto restarted may have lost the subscription)
    observer = mqtt.connect(mosquitto.url, {
      clientId: 'incident-observer',
      clean: false,
      reconnectPeriod: 500,
    });
    observer.on('message', (topic, payload) =>
      onMqtt.push({ topic, body: JSON.parse(payload.toString()) as Body }),
    );
    observer.on('error', () => undefined);
    const topics: Record<string, { qos: 1 }> = { 'alerts/v1/#': { qos: 1 } };
    observer.on('connect', () => observer.subscribe({ ...topics, resubscribe: true } as ISubscriptionMap));
    expect(await eventually(() => observer.connected, 10_000)).toBe(true);
    const evaluator = app.get(AlertEvaluator);
    /** Readings a device could not send yet (the broker down): sent once it is back, as a device keeps them. */
    const waiting: Extract<Outgoing, { type: 'reading' }>[] = [];
    let sent = 0;
    const silent = ({ deviceId }: Outgoing, minute: number): boolean =>
      (deviceId === FIRST && minute === BROKER_DOWN[0] - 5) ||
      ((deviceId.startsWith('b2-') || deviceId === LONE) &&
        minute >= GATEWAY_DOWN[0] &&
        minute < (deviceId === STRAGGLER ? STRAGGLER_BACK : GATEWAY_DOWN[1]));

    for (let minute = 0; minute <= 140; minute++) {
      const t = at(minute);
      if (minute === BROKER_DOWN[0]) {
        await mosquitto.halt();
        expect(await eventually(() => brokerIs('down'), 10_000)).toBe(true);
      }
      if (minute === BROKER_DOWN[1]) {
        await mosquitto.restart();
        expect(await eventually(() => brokerIs('up'), 30_000)).toBe(true);
      }
      while (simulation.nextStepMs <= t)
        for (const item of simulation.step())
          if (item.type === 'reading' && !silent(item, (item.reading.ts - FROM) / MIN)) waiting.push(item);
      if (minute < BROKER_DOWN[0] || minute >= BROKER_DOWN[1]) {
        for (const item of waiting.splice(0)) {
          await publishers.publish(item.siteId, item.deviceId, item.topic, JSON.stringify(item.reading));
          sent++;
        }
        await publishers.drain();
        // acknowledged by mosquitto, then delivered to ingest: received, then stored, before the evaluation
        expect(await waitForCount(() => metricOf(config.http.port, READINGS_RECEIVED), sent)).toBe(sent);
        expect(await spoolDrained(config.http.port)).toBe(true);
      }
      await monitor.check(t);
      // from minute 10: before, the devices have not all sent a first reading
      if (minute >= 10)
        for (const n of await evaluator.runOnce(t))
          queued.push({
            minute,
            what:
              n.type === 'incident' ? `incident ${n.incident.kind} ${n.state}` : `${n.entity.id} ${n.state}`,
            audience: n.audience,
          });
    }
    const outbox = app.get(OutboxDispatcher);
    for (let pass = 0; pass < 100 && (await outbox.deliverDue(clock.now() + HOUR)) > 0; pass++);
    outageRows.push(...(await app.get(StateStore).db.selectFrom('platform_outage').selectAll().execute()));
    const published = await app
      .get(StateStore)
      .db.selectFrom('outbox')
      .select('delivery_id')
      .where('channel', '=', 'mqtt')
      .where('delivered_at', 'is not', null)
      .execute();
    expect(published.length).toBeGreaterThan(0);
    expect(await eventually(() => onMqtt.length >= published.length, 10_000)).toBe(true);
    await observer.endAsync();
  }, 600_000);

  afterAll(async () => {
    await publishers?.close();
    await app?.close();
    await receiver?.close();
    await mosquitto?.stop();
    await influxd?.stop();
    rmSync(seeds, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  const incidents = (path: string, kind?: string): IncidentNotification[] =>
    receiver.got
      .filter((r) => r.path === path)
      .map((r) => r.body)
      .filter((b): b is IncidentNotification => b.type === 'incident' && (!kind || b.incident.kind === kind));
  const alerts = (path: string): AlertNotification[] =>
    receiver.got
      .filter((r) => r.path === path)
      .map((r) => r.body)
      .filter((b): b is AlertNotification => b.type !== 'incident');

  it('records the broker’s 30 minutes down as PeakWatch’s own outage', () => {
    expect(outageRows).toEqual([
      expect.objectContaining({
        component: 'broker',
        started_at: new Date(at(BROKER_DOWN[0])).toISOString(),
        ended_at: new Date(at(BROKER_DOWN[1])).toISOString(),
      }),
    ]);
  });

  it('stores every reading the devices kept while the broker was down, once it is back', async () => {
    // ingest's session on mosquitto is resumed, its shared subscriptions renewed: 6 readings of each device
    // (10:40 to 11:05) reach InfluxDB
    const influx = await influxd.client('incidents');
    const series = await influx.query(
      `SELECT count("seq") AS "n" FROM "telemetry" WHERE time >= ${at(BROKER_DOWN[0])}ms AND time < ${at(BROKER_DOWN[1])}ms GROUP BY "device"`,
    );
    expect(Object.fromEntries(series.map((s) => [s.tags['device'], s.rows[0]!['n']]))).toEqual(
      Object.fromEntries(devices.map((d) => [d, 6])),
    );
  });

  it('tells the facility managers once that the platform failed, and once that it is over, in Chinese', () => {
    const told = incidents('/fm', 'platform');
    expect(told.map((n) => n.state)).toEqual(['opened', 'resolved']);
    const [opened, resolved] = told as [IncidentNotification, IncidentNotification];
    expect(receiver.got.every((r) => r.signatureOk)).toBe(true);
    expect(opened.incident).toMatchObject({ cause: 'broker', platform: true });
    expect(opened.language).toBe('zh-CN');
    expect(opened.incident.title).toBe('PeakWatch 平台故障：MQTT 消息服务器无法连接');
    // b1-grid's last reading was stamped 10:30: silent 16 minutes at 10:46, 6 of them with the broker down (16 − 6
    // within the rule's 15): it opens the incident alone
    expect(opened.openedAt).toBe(new Date(at(BROKER_DOWN[0] - 10 + 16)).toISOString());
    expect(opened.members.map((m) => [m.rule.id, m.entity.id])).toEqual([['device-silent', FIRST]]);
    // the others' last readings were stamped 10:35: they fire at 10:51 and join it, told nothing more; all are back at
    // 11:10 with the readings they kept
    expect(
      queued.filter((q) => q.audience === 'facility_manager' && q.what.startsWith('incident platform')),
    ).toEqual([
      { minute: BROKER_DOWN[0] - 10 + 16, what: 'incident platform opened', audience: 'facility_manager' },
      // told again as opened only to the sites' topics it now reaches (the receivers had it): see the MQTT test
      { minute: BROKER_DOWN[0] - 5 + 16, what: 'incident platform opened', audience: 'facility_manager' },
      { minute: BROKER_DOWN[1], what: 'incident platform resolved', audience: 'facility_manager' },
    ]);
    expect(resolved.resolvedAt).toBe(new Date(at(BROKER_DOWN[1])).toISOString());
    expect(resolved.members.map((m) => m.entity.id).sort()).toEqual([...devices].sort());
    expect(resolved.members.every((m) => m.resolvedAt === resolved.resolvedAt)).toBe(true);
  });

  it('publishes each site its own part of an incident on its alert topic, opened before resolved', () => {
    const sites = ['hd-b1', 'hd-b2', 'hd-b3', 'hd-dc1'];
    for (const site of sites) {
      const mine = onMqtt
        .filter((m) => m.topic === `alerts/v1/haidian/${site}`)
        .map((m) => m.body)
        .filter((b): b is IncidentNotification => b.type === 'incident');
      const platform = mine.filter((b) => b.incident.kind === 'platform');
      expect({ site, states: platform.map((b) => b.state) }).toEqual({
        site,
        states: ['opened', 'resolved'],
      });
      expect(mine.flatMap((b) => b.members).every((m) => m.entity.siteId === site)).toBe(true);
      expect(mine.some((b) => b.incident.kind === 'gateway')).toBe(site === 'hd-b2');
    }
  });

  it('tells no facility manager that a device failed, and the regulator nothing', () => {
    const during = alerts('/fm').filter((n) => Date.parse(n.at) < at(GATEWAY_DOWN[0]));
    expect(during).toEqual([]);
    expect(receiver.got.filter((r) => r.path === '/haidian')).toEqual([]);
  });

  it('makes one incident of a declared gateway whose devices fall silent, and tells a lone silent meter alone', () => {
    const told = incidents('/fm', 'gateway');
    expect(told.map((n) => [n.state, n.incident.cause])).toEqual([
      ['opened', 'gw-b2'],
      ['resolved', 'gw-b2'],
    ]);
    const b2 = devices.filter((d) => d.startsWith('b2-')).sort();
    expect(b2).toHaveLength(7);
    expect(told[0]!.members.map((m) => m.entity.id).sort()).toEqual(b2);
    expect(told[0]!.incident.platform).toBe(false);
    // silent from 11:15 (their last reading): firing at 11:31, held INCIDENT_WAIT_MINUTES (5) to see what follows:
    // the gateway's incident opens at 11:36, and the gas meter, alone, is told then
    const fired = GATEWAY_DOWN[0] - 5 + 16;
    expect(told[0]!.openedAt).toBe(new Date(at(fired + 5)).toISOString());
    // at 12:00 six of the seven are back: the gateway's cause is over, its incident resolves; b2-hp2, still silent,
    // has failed on its own: it leaves the incident and is told as its own alert, then as resolved at 12:15
    expect(told[1]!.resolvedAt).toBe(new Date(at(GATEWAY_DOWN[1])).toISOString());
    expect(told[1]!.members.map((m) => m.entity.id).sort()).toEqual(b2.filter((d) => d !== STRAGGLER));
    const own = (n: AlertNotification) => [n.rule.id, n.entity.id, n.state, n.at];
    expect(alerts('/fm').map(own).sort()).toEqual(
      [
        ['device-silent', LONE, 'firing', new Date(at(fired)).toISOString()],
        ['device-silent', LONE, 'resolved', new Date(at(GATEWAY_DOWN[1])).toISOString()],
        ['device-silent', STRAGGLER, 'firing', new Date(at(fired)).toISOString()],
        ['device-silent', STRAGGLER, 'resolved', new Date(at(STRAGGLER_BACK)).toISOString()],
      ].sort(),
    );
    // when each was queued
    const when = (what: string) => queued.filter((q) => q.what === what).map((q) => q.minute);
    expect(when('incident gateway opened')).toEqual([fired + 5]);
    expect(when(`${LONE} firing`)).toEqual([fired + 5]);
    expect(when(`${STRAGGLER} firing`)).toEqual([GATEWAY_DOWN[1]]);
    expect(when('incident gateway resolved')).toEqual([GATEWAY_DOWN[1]]);
  });

  it('counts ingest as not running while its heartbeat is stale, and records the time it was away when it starts', async () => {
    const desk = app.get(IncidentDesk);
    // the last check beat at 12:20 (minute 140); ingest counts as away 2 minutes later (INGEST_HEARTBEAT_STALE_MS)
    const beat = at(140);
    expect((await desk.outages(beat + 2 * MIN)).map((o) => o.component)).toEqual(['broker']);
    expect((await desk.outages(beat + 2 * MIN + 1)).filter((o) => o.component === 'ingest')).toEqual([
      { component: 'ingest', startMs: beat, endMs: null },
    ]);
    // a restart at the product's clock (14:00): the time since the last beat is recorded as ingest's outage
    await app.close();
    app = await createApp(config, [INGEST_APP, ALERTS_APP, API_APP], { clock });
    stopSchedules(app);
    const rows = await app
      .get(StateStore)
      .db.selectFrom('platform_outage')
      .selectAll()
      .where('component', '=', 'ingest')
      .execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.started_at).toBe(new Date(beat).toISOString());
    expect(Date.parse(rows[0]!.ended_at!) - clock.now()).toBeLessThanOrEqual(0);
    expect(Date.parse(rows[0]!.ended_at!)).toBeGreaterThan(FROM + 4 * HOUR - 1);
  });

  it('lists the incidents and their members to those who may see them (API), and to the dashboards (InfluxDB)', async () => {
    const keys = app.get(ApiKeysRepository);
    const bearer = async (role: 'admin' | 'facility_manager' | 'regulator', scope: string[]) =>
      `Bearer ${(await keys.create({ name: `${role}-${scope.join()}`, role, scope })).key}`;
    const http = supertest(app.getHttpServer() as Server);
    const admin = await http.get('/api/v1/incidents').set('Authorization', await bearer('admin', []));
    expect(admin.status).toBe(200);
    const list = admin.body as { kind: string; state: string; members: { site: string }[] }[];
    expect(list.map((i) => [i.kind, i.state, i.members.length])).toEqual([
      ['gateway', 'resolved', 6],
      ['platform', 'resolved', devices.length],
    ]);
    // building 2's facility manager: both, with building 2's members only
    const fm = await http
      .get('/api/v1/incidents')
      .set('Authorization', await bearer('facility_manager', ['hd-b2']));
    expect((fm.body as typeof list).map((i) => [i.kind, new Set(i.members.map((m) => m.site))])).toEqual([
      ['gateway', new Set(['hd-b2'])],
      ['platform', new Set(['hd-b2'])],
    ]);
    // building 1's: the platform's incident with building 1's members; building 2's gateway is none of its business
    const other = await http
      .get('/api/v1/incidents')
      .set('Authorization', await bearer('facility_manager', ['hd-b1']));
    expect((other.body as typeof list).map((i) => [i.kind, new Set(i.members.map((m) => m.site))])).toEqual([
      ['platform', new Set(['hd-b1'])],
    ]);
    // a regulator: none (incidents are made of data-quality alerts)
    const regulator = await http
      .get('/api/v1/incidents')
      .set('Authorization', await bearer('regulator', ['haidian']));
    expect(regulator.body).toEqual([]);
    const bad = await http
      .get('/api/v1/incidents?state=closed')
      .set('Authorization', await bearer('admin', []));
    expect([bad.status, (bad.body as { field: string }).field]).toEqual([400, 'state']);

    // the dashboards' series: each site's last point of the platform incident says resolved, with its members
    const influx = await influxd.client('incidents');
    const series = await influx.query(
      `SELECT last("state") AS "state", last("members") AS "members", last("title_zh") AS "title" FROM "incident" WHERE "kind" = 'platform' GROUP BY "site"`,
    );
    const bySite = Object.fromEntries(
      series.map((s): [string, unknown[]] => [s.tags['site']!, [s.rows[0]!['state'], s.rows[0]!['members']]]),
    );
    expect(bySite).toEqual({
      'hd-b1': ['resolved', 7],
      'hd-b2': ['resolved', 7],
      'hd-b3': ['resolved', 7],
      'hd-dc1': ['resolved', 2],
    });
    // the Chinese dashboards' title
    expect(new Set(series.map((s) => s.rows[0]!['title']))).toEqual(
      new Set(['PeakWatch 平台故障：MQTT 消息服务器无法连接']),
    );
  });
});
