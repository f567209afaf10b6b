import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { INestApplication } from '@nestjs/common';
import type { MqttClient } from 'mqtt';
import { ALERTS_APP, AlertEvaluator, type AlertNotification } from '@peakwatch/alerts';
import { MEASUREMENTS, alertTopic } from '@peakwatch/contracts';
import { floatField, line } from '@peakwatch/influx';
import { kpiLine } from '@peakwatch/metering';
import { freePort, onFreePorts } from '@peakwatch/process';
import { REPORTS_APP, ReportScheduler } from '@peakwatch/reports';
import { ReportService, type Report } from '@peakwatch/reporting';
import { Clock, createApp } from '@peakwatch/runtime';
import { JobLeases, StateStore } from '@peakwatch/state';
import { HOUR, beijingMidnight } from '../support/calendar';
import { startInfluxd, type TestInfluxd } from '../support/influxd';
import { stopSchedules, testConfig } from '../support/ingest';
import { startMosquitto, type TestMosquitto } from '../support/mosquitto';
import { connectClient } from '../support/mqtt';
import { startPostgres, type TestPostgres } from '../support/postgres';
import { eventually } from '../support/processes';
import { copySeeds } from '../support/seeds';

/**
 * The moment both replicas tick: Tuesday 3 March 2026, 10:20 in Beijing (the report schedule's minute). February
 * 2026's report is due then (settled since 06:00 on 1 March, REPORT_SETTLE_HOURS 6) and the annual report is not (it
 * is generated at 01:xx only); the last day ended is 2 March, the window the alert rule below judges.
 */
const NOW = beijingMidnight('2026-03-03') + 10 * HOUR + 20 * 60_000;
const ORG = 'hd-tech-campus';
const PERIOD = '2026-02';
const RULE = 'replica-test-dc-energy';
const SECRET = 'test-replica-secret-0123456789';
/**
 * A lease of 10 s, renewed every 3 s (the replica that waits looks again every second whatever the lease): long enough
 * that a loaded machine never lets the waiting replica take a live holder's run over.
 */
const LEASE_SECONDS = '10';

interface Received {
  path: string;
  delivery: string;
  body: { type?: string; version?: number; audience?: string; state?: string };
}

/**
 * Two replicas of the alerts and reports apps (each its own DATA_DIR) on one PostgreSQL database and one influxd
 * database, as two `peakwatch start` processes share them (docs/deployment.md, "Replicas"), ticked at the same moment:
 * the hour's report run and the minute's alert evaluation are each done by one replica (its lease in `job_lease`),
 * and what they file and send (a report version and its submission; alert notifications on webhooks and MQTT) is
 * there once, and reaches its receivers once, though both replicas' outbox dispatchers deliver. The store's keys
 * alone (a version's primary key, a notification's delivery id) would keep one version and one outbox row even if
 * both replicas did the work; so the test also counts the work: the generations and evaluations, the alert's history,
 * the version's files.
 */
describe('two replicas on one PostgreSQL tick their scheduled jobs at the same moment', () => {
  // one rule, on a KPI point the test writes: the sample data centre's energy of 2 March above 10 MWh
  const seeds = copySeeds();
  const clock = Clock.startingAt(NOW);
  let postgres: TestPostgres;
  let influxd: TestInfluxd;
  let mosquitto: TestMosquitto;
  let store: StateStore;
  let receiver: Server;
  let receiverUrl: string;
  let subscriber: MqttClient;
  const received: Received[] = [];
  const published: { topic: string; body: AlertNotification }[] = [];
  const replicas: { app: INestApplication; dataDir: string; holder: string }[] = [];

  beforeAll(async () => {
    for (const file of readdirSync(join(seeds, 'alert-rules'))) rmSync(join(seeds, 'alert-rules', file));
    writeFileSync(
      join(seeds, 'alert-rules', 'replica-test.yaml'),
      [
        'rules:',
        `  - { id: ${RULE}, title: Daily energy of a data centre above 10 MWh, signal: { kpi: energy_kwh, period: 1d },`,
        '      sites: { type: data_centre }, comparison: above, threshold: { value: 10000 }, for: 0m,',
        "      severity: warning, audience: [facility_manager, regulator], source: { document: 'test' } }",
        '',
      ].join('\n'),
    );
    const port = await freePort();
    receiverUrl = `http://127.0.0.1:${port}`;
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        received.push({
          path: req.url!,
          delivery: String(req.headers['x-peakwatch-delivery']),
          body: JSON.parse(body) as Received['body'],
        });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(port, '127.0.0.1', resolve));
    [postgres, influxd, mosquitto] = await Promise.all([startPostgres(), startInfluxd(), startMosquitto()]);
    const databaseUrl = await postgres.database();
    const influx = await influxd.client('replica_jobs');

    // The month's content: hd-b1's grid meter read at the start of February, mid-month and at the month's end
    // (the reading at midnight on 1 March closes the month), as ingest writes readings: 40,000 kWh in February.
    const tags = {
      site: 'hd-b1',
      device: 'b1-grid',
      kind: 'electricity_meter',
      role: 'grid',
      district: 'haidian',
    };
    const register = (date: string, kwh: number) =>
      line(MEASUREMENTS.telemetry, tags, { energy_import_kwh: floatField(kwh) }, beijingMidnight(date));
    // The data centre's energy of 2 March, as the KPI job writes it: 12,000 kWh, every reading there
    const dayKwh = kpiLine(
      {
        kpi: 'energy_kwh',
        windowStartMs: beijingMidnight('2026-03-02'),
        value: 12_000,
        numerator: 12_000,
        denominator: 1,
        completeness: 1,
        estimated: false,
        estimatedShare: 0,
      },
      { scope: 'site', entity: 'hd-dc1', period: '1d' },
    );
    const writeApi = influx.createWriteApi({ flushInterval: 0, maxRetries: 0 });
    writeApi.writeRecords([
      register('2026-02-01', 1_000),
      register('2026-02-15', 21_000),
      register('2026-03-01', 41_000),
      dayKwh,
    ]);
    await writeApi.close();

    subscriber = await connectClient(mosquitto.url);
    subscriber.on('message', (topic, payload) =>
      published.push({ topic, body: JSON.parse(payload.toString('utf8')) as AlertNotification }),
    );
    await subscriber.subscribeAsync('alerts/v1/#', { qos: 1 });

    // one after the other: the first migrates the database, the second finds it migrated
    for (const name of ['a', 'b']) {
      const dataDir = mkdtempSync(join(tmpdir(), `peakwatch-replica-${name}-`));
      const app = await onFreePorts(async () =>
        createApp(
          await testConfig(influxd.url, 'replica_jobs', dataDir, {
            SEEDS_DIR: seeds,
            DATABASE_URL: databaseUrl,
            MQTT_URL: mosquitto.url,
            JOB_LEASE_SECONDS: LEASE_SECONDS,
            ALERT_WEBHOOKS: `facility_manager=${receiverUrl}/fm,regulator@haidian=${receiverUrl}/haidian,regulator@chaoyang=${receiverUrl}/chaoyang`,
            ALERT_WEBHOOK_SECRET: SECRET,
            REPORT_ENDPOINTS: `org:${ORG}=${receiverUrl}/reports`,
          }),
          [ALERTS_APP, REPORTS_APP],
          { clock },
        ),
      );
      // the test ticks the schedules itself; the outbox dispatchers keep running, as in a replica
      stopSchedules(app);
      replicas.push({ app, dataDir, holder: app.get(JobLeases).holder });
    }
    store = await StateStore.open({ kind: 'postgres', url: databaseUrl });
  });

  afterAll(async () => {
    for (const { app } of replicas) await app.close();
    await subscriber?.endAsync();
    await store?.close();
    await new Promise((resolve) => receiver?.close(resolve));
    await mosquitto?.stop();
    await influxd?.stop();
    await postgres?.stop();
    for (const { dataDir } of replicas) rmSync(dataDir, { recursive: true, force: true });
    rmSync(seeds, { recursive: true, force: true });
  });

  afterEach(() => jest.restoreAllMocks());

  const leases = (job: string) =>
    store.db.selectFrom('job_lease').selectAll().where('job', '=', job).execute();
  /** The outbox's rows to the targets `of` picks, once `expected` of them are there and every one is delivered. */
  const delivered = async (of: (target: string) => boolean, expected: number) => {
    const rows = async () =>
      (await store.db.selectFrom('outbox').selectAll().execute()).filter((r) => of(r.target));
    await eventually(async () => {
      const some = await rows();
      return some.length >= expected && some.every((r) => r.delivered_at !== null);
    }, 20_000);
    return rows();
  };
  const reportsUrl = () => `${receiverUrl}/reports`;

  it('files the report version once, submits it once, and leases the run to one replica', async () => {
    const generated = replicas.map(({ app }) => jest.spyOn(app.get(ReportService), 'generate'));
    const nowMs = clock.now();
    await Promise.all(replicas.map(({ app }) => app.get(ReportScheduler).tick(nowMs)));

    // the hour's run, once: one replica generated the one report due (the organisation's February), the other none
    expect(generated.flatMap((spy) => spy.mock.calls)).toEqual([[ORG, PERIOD]]);
    const [lease, ...more] = await leases('reports');
    expect(more).toEqual([]);
    expect(lease).toMatchObject({ slot: '2026-03-03T02:00:00.000Z', part: 'all', takeovers: 0 });
    expect(lease!.done_at).not.toBeNull();
    const holder = replicas.findIndex((r) => r.holder === lease!.holder);
    expect(holder).toBeGreaterThanOrEqual(0);
    expect(generated[holder]!.mock.calls).toHaveLength(1);

    // one version, with the month's content; its files are in the holder's DATA_DIR only
    const versions = await store.db.selectFrom('report').selectAll().execute();
    expect(versions.map((v) => [v.org_id, v.period, v.version, v.corrects])).toEqual([
      [ORG, PERIOD, 1, null],
    ]);
    const report = JSON.parse(versions[0]!.json) as Report;
    expect(report.energy.carriers.find((c) => c.carrier === 'grid_electricity')?.quantity).toBe(40_000);
    expect(
      replicas.map(({ dataDir }) => existsSync(join(dataDir, 'reports', ORG, PERIOD, 'v1.json'))),
    ).toEqual(replicas.map((_, i) => i === holder));

    // one submission in the outbox, received once
    const outbox = await delivered((target) => target === reportsUrl(), 1);
    expect(outbox.map((r) => [r.channel, r.target, r.delivery_id])).toEqual([
      ['webhook', reportsUrl(), versions[0]!.delivery_id],
    ]);
    expect(
      received
        .filter((r) => r.path === '/reports')
        .map((r) => [r.path, r.delivery, r.body.type, r.body.version]),
    ).toEqual([['/reports', versions[0]!.delivery_id, 'report', 1]]);
  });

  it('evaluates the minute once and sends each notification once, to each receiver of its audience', async () => {
    // both ticks read the same minute: not within a second of its end
    if (60_000 - (clock.now() % 60_000) < 1_000) await sleep(60_000 - (clock.now() % 60_000) + 50);
    const evaluated = replicas.map(({ app }) => jest.spyOn(app.get(AlertEvaluator), 'runOnce'));
    const minuteMs = Math.floor(clock.now() / 60_000) * 60_000;
    await Promise.all(replicas.map(({ app }) => app.get(AlertEvaluator).tick()));

    // the minute's evaluation, once, by the replica holding its lease
    const runs = evaluated.flatMap((spy) =>
      spy.mock.results.map((r) => r.value as Promise<AlertNotification[]>),
    );
    expect(runs).toHaveLength(1);
    const [lease, ...more] = await leases('alerts');
    expect(more).toEqual([]);
    expect(lease).toMatchObject({ slot: new Date(minuteMs).toISOString(), part: 'all', takeovers: 0 });
    expect(lease!.done_at).not.toBeNull();
    const holder = replicas.findIndex((r) => r.holder === lease!.holder);
    expect(evaluated[holder]!.mock.calls).toHaveLength(1);

    // by hand: hd-dc1 (haidian), the one data centre, used 12,000 kWh > 10,000 on 2 March, `for` 0m: it fires once,
    // one notification per audience (facility_manager, regulator)
    expect((await runs[0]!).map((n) => [n.rule.id, n.entity.id, n.state, n.episode, n.audience])).toEqual([
      [RULE, 'hd-dc1', 'firing', 1, 'facility_manager'],
      [RULE, 'hd-dc1', 'firing', 1, 'regulator'],
    ]);
    const history = await store.db
      .selectFrom('alert_history')
      .select(['rule_id', 'entity', 'event'])
      .execute();
    expect(history.map((h) => [h.rule_id, h.entity, h.event])).toEqual([[RULE, 'hd-dc1', 'firing']]);
    const state = await store.db.selectFrom('alert_state').selectAll().execute();
    expect(state.map((s) => [s.rule_id, s.entity, s.state, s.episode])).toEqual([
      [RULE, 'hd-dc1', 'firing', 1],
    ]);

    // each notification to the webhooks of its audience (the facility managers'; Haidian's regulator, not
    // Chaoyang's) and to the site's MQTT topic: 2 webhooks and 2 MQTT messages
    const topic = alertTopic('haidian', 'hd-dc1');
    const outbox = await delivered((target) => target !== reportsUrl(), 4);
    expect(outbox.map((r) => [r.channel, r.target]).sort()).toEqual([
      ['mqtt', topic],
      ['mqtt', topic],
      ['webhook', `${receiverUrl}/fm`],
      ['webhook', `${receiverUrl}/haidian`],
    ]);
    const webhooks = received.filter((r) => r.path !== '/reports');
    expect(webhooks.map((r) => [r.path, r.body.audience, r.body.state]).sort()).toEqual([
      ['/fm', 'facility_manager', 'firing'],
      ['/haidian', 'regulator', 'firing'],
    ]);
    expect(new Set(webhooks.map((r) => r.delivery)).size).toBe(2);
    // each MQTT row published once: one message per audience on the site's topic
    expect(await eventually(() => published.length >= 2, 5_000)).toBe(true);
    expect(published.map((p) => [p.topic, p.body.audience]).sort()).toEqual([
      [topic, 'facility_manager'],
      [topic, 'regulator'],
    ]);
  });
});
