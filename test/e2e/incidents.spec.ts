import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
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
/** Then the gateway of building 2 and, alone, b3's gas meter send nothing from minute 80 to minute 120. */
const GATEWAY_DOWN = [80, 120] as const;
const LONE = 'b3-gas';

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
    const evaluator = app.get(AlertEvaluator);
    /** Readings a device could not send yet (the broker down): sent once it is back, as a device keeps them. */
    const waiting: Extract<Outgoing, { type: 'reading' }>[] = [];
    let sent = 0;
    const silent = (item: Outgoing, minute: number): boolean =>
      (item.deviceId.startsWith('b2-') || item.deviceId === LONE) &&
      minute >= GATEWAY_DOWN[0] &&
      minute < GATEWAY_DOWN[1];

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
      if (minute >= 10) await evaluator.runOnce(t);
    }
    const outbox = app.get(OutboxDispatcher);
    for (let pass = 0; pass < 100 && (await outbox.deliverDue(clock.now() + HOUR)) > 0; pass++);
    outageRows.push(...(await app.get(StateStore).db.selectFrom('platform_outage').selectAll().execute()));
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
    // every device's last reading was stamped 10:35 (the step before the broker stopped): silent 16 minutes, above
    // the rule's 15, at 10:51; back at 11:10 with the readings they kept
    expect(opened.openedAt).toBe(new Date(at(BROKER_DOWN[0] - 5 + 16)).toISOString());
    expect(resolved.resolvedAt).toBe(new Date(at(BROKER_DOWN[1])).toISOString());
    // its members: every device of the campus, silent, all resolved
    expect(opened.members.map((m) => m.entity.id).sort()).toEqual([...devices].sort());
    expect(new Set(opened.members.map((m) => m.rule.id))).toEqual(new Set(['device-silent']));
    expect(resolved.members).toHaveLength(devices.length);
    expect(resolved.members.every((m) => m.resolvedAt === resolved.resolvedAt)).toBe(true);
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
    // silent from 11:15 (its last reading): firing at 11:31, held INCIDENT_WAIT_MINUTES (5) to see what follows
    expect(told[0]!.openedAt).toBe(new Date(at(GATEWAY_DOWN[0] - 5 + 16 + 5)).toISOString());
    expect(told[1]!.resolvedAt).toBe(new Date(at(GATEWAY_DOWN[1])).toISOString());
    // the gas meter, silent alone: its own alert, fired at 11:31 and told after the wait, then resolved
    expect(alerts('/fm').map((n) => [n.rule.id, n.entity.id, n.state, n.at])).toEqual([
      ['device-silent', LONE, 'firing', new Date(at(GATEWAY_DOWN[0] - 5 + 16)).toISOString()],
      ['device-silent', LONE, 'resolved', new Date(at(GATEWAY_DOWN[1])).toISOString()],
    ]);
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
      ['gateway', 'resolved', 7],
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
