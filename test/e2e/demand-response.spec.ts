import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { ALERTS_APP, receiverKey, verifyWebhook } from '@peakwatch/alerts';
import { KpiCron } from '@peakwatch/analytics';
import { API_APP, ApiKeysRepository } from '@peakwatch/api';
import type { AppConfig } from '@peakwatch/config';
import { loadScenario } from '@peakwatch/device-sim';
import { INGEST_APP } from '@peakwatch/ingest';
import { drRequestTopic } from '@peakwatch/contracts';
import { loadPolicyData, loadTariffs } from '@peakwatch/policy';
import { readKpis, type KpiValue } from '@peakwatch/metering';
import { freePort } from '@peakwatch/process';
import { Registry } from '@peakwatch/registry';
import { Clock, LiveEvents, createApp } from '@peakwatch/runtime';
import { DrEvents, StateStore, type DrEvent, type DrEventResult } from '@peakwatch/state';
import supertest from 'supertest';
import { dashboardQueries, dashboards } from '@peakwatch/dashboards';
import { ROOT } from '../support/build';
import { expectPanelRows, grafanaQuery } from '../support/grafana';
import { DAY, HOUR, beijingMidnight } from '../support/calendar';
import { startInfluxd, type TestInfluxd } from '../support/influxd';
import {
  backfill,
  issueDeviceSecrets,
  metricOf,
  publishLate,
  spoolDrained,
  testConfig,
} from '../support/ingest';
import { connectClient } from '../support/mqtt';
import { startSmtp, subjectOf, type TestSmtp } from '../support/smtp';
import { TRUTH_ROUNDING, expectWithin, registerTolerance } from '../support/tolerance';

const SEEDS = join(ROOT, 'seeds');
const QUARTER = 15 * 60_000;
const SECRET = 'test-webhook-secret-0123456789';
/**
 * The simulated period, chosen for its calendar: the event is on Tuesday 20 October 2026 from 14:00 to 16:00, a mild
 * afternoon (no heating, little cooling), and its baseline days are the five working days before it, Monday 19,
 * Friday 16, Thursday 15, Wednesday 14 and Tuesday 13 October (the weekend of 17-18 October is left out).
 */
const EVENT_DAY = beijingMidnight('2026-10-20');
const START = EVENT_DAY + 14 * HOUR;
const END = EVENT_DAY + 16 * HOUR;
const BASELINE_DAYS = ['2026-10-19', '2026-10-16', '2026-10-15', '2026-10-14', '2026-10-13'];
const FROM = beijingMidnight('2026-10-13');
/** When the event is created (that morning), and when it is measured (17:00, an hour after its end). */
const CREATED_AT = EVENT_DAY + 8 * HOUR;
const MEASURED_AT = EVENT_DAY + 17 * HOUR;
/** What the event asks of hd-b1 and hd-b3 together. */
const REQUESTED_KW = 100;
/** hd-b3 answers it: half of its HVAC and 30 % of its lighting and sockets; hd-b1 does nothing. */
const SHED = { hvac: 0.5, lighting_sockets: 0.3 };

interface Truth {
  sites: Record<string, { drReduction15m?: [number, number][]; priceShift15m?: [number, number][] }>;
  devices: Record<string, { intervals15m: Record<string, [number, number][]> }>;
}

/**
 * Demand response end to end: a regulator creates an event through the API; the facility managers' webhook and
 * e-mail and the sites' MQTT topic receive it; the simulator's offices answer it (hd-b3 sheds load, hd-b1 does not)
 * over a week of readings through the real broker, ingest and influxd; the KPI job measures each site's response
 * against its baseline (docs/domain.md, "Demand response"), and the API reports it. The measured reductions are
 * checked against the rule worked by hand from the simulator's true quarter-hour loads, and against the reduction
 * the simulator truly delivered.
 */
describe('demand response: an event over the simulator, measured against its baseline', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'peakwatch-dr-'));
  let influxd: TestInfluxd;
  let config: AppConfig;
  let app: INestApplication | undefined;
  let smtp: TestSmtp;
  let receiver: Server;
  const webhooks: { path: string; signatureOk: boolean; body: Record<string, unknown> }[] = [];
  const onMqtt: { topic: string; body: Record<string, unknown> }[] = [];
  let truth: Truth;
  let created: DrEvent;
  let firstResult: DrEventResult;
  const streamed: string[] = [];
  const operatorRefusals: { subscribe?: string; otherDistrict?: boolean; device?: boolean } = {};
  let requests: Record<string, number>;
  let overMqtt: DrEvent[];
  let days: KpiValue[];
  let badRequests: { status: number; field: string | undefined }[];
  let overlap: { status: number; overlaps: string[] };
  const seen = new Map<string, DrEvent>();
  let capability: Record<string, unknown>;
  let capabilityFm: number;
  const keys = new Map<string, string>();

  beforeAll(async () => {
    influxd = await startInfluxd();
    // the facility managers' receivers: a webhook and an SMTP server
    let base = '';
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        webhooks.push({
          path: req.url!,
          signatureOk: verifyWebhook(req.headers, body, receiverKey(SECRET, `${base}${req.url}`), Date.now()),
          body: JSON.parse(body) as Record<string, unknown>,
        });
        res.writeHead(204).end();
      });
    });
    const port = await freePort();
    await new Promise<void>((resolve) => receiver.listen(port, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${port}`;
    smtp = await startSmtp();
    config = await testConfig(influxd.url, 'dr', dataDir, {
      ALERT_WEBHOOKS: `facility_manager@haidian=${base}/fm,regulator@haidian=${base}/regulator`,
      ALERT_WEBHOOK_SECRET: SECRET,
      ALERT_EMAILS: 'facility_manager=fm@campus.example',
      ALERT_SMTP_URL: smtp.url,
    });

    // The morning of the event: the regulator creates it, and it is announced.
    app = await createApp(config, [INGEST_APP, ALERTS_APP, API_APP], { clock: Clock.startingAt(CREATED_AT) });
    const repository = app.get(ApiKeysRepository);
    for (const [name, role, scope] of [
      ['regulator', 'regulator', ['haidian']],
      ['fm-b3', 'facility_manager', ['hd-b3']],
      ['fm-b2', 'facility_manager', ['hd-b2']],
    ] as const)
      keys.set(name, (await repository.create({ name, role, scope: [...scope] })).key);
    const credentials = (await import('@peakwatch/state')).CredentialsRepository;
    const observerSecret = await app.get(credentials).issue('dr-observer', 'service', null);
    const observer = await connectClient(`mqtt://127.0.0.1:${config.mqtt.port}`, {
      username: 'dr-observer',
      password: observerSecret,
    });
    observer.on('message', (topic, payload) =>
      onMqtt.push({ topic, body: JSON.parse(payload.toString('utf8')) as Record<string, unknown> }),
    );
    await observer.subscribeAsync('alerts/v1/+/+/dr', { qos: 1 });
    const http = supertest(app.getHttpServer() as Server);
    // hd-b3's facility manager watches its site's live stream
    const stream = httpRequest({
      port: config.http.port,
      path: '/api/v1/sites/hd-b3/stream',
      headers: { authorization: `Bearer ${keys.get('fm-b3')}` },
    });
    await new Promise<void>((resolve) => {
      stream.on('response', (res) => {
        res.on('data', (chunk: Buffer) => streamed.push(chunk.toString('utf8')));
        resolve();
      });
      stream.end();
    });
    const post = (body: object) =>
      http
        .post('/api/v1/dr-events')
        .set('Authorization', `Bearer ${keys.get('regulator')}`)
        .send(body);
    const event = {
      sites: ['hd-b1', 'hd-b3'],
      startsAt: '2026-10-20T14:00:00+08:00',
      endsAt: '2026-10-20T16:00:00+08:00',
      requestedKw: REQUESTED_KW,
      reason: 'afternoon peak on the Haidian grid',
    };
    const answer = await post(event);
    expect(answer.status).toBe(201);
    created = answer.body as DrEvent;
    // refused: an event in the past, one that ends before it starts, one off the quarter hour, another district's
    // site, and an event overlapping this one for one of its sites
    badRequests = [];
    for (const bad of [
      { ...event, startsAt: '2026-10-20T07:00:00+08:00', endsAt: '2026-10-20T07:30:00+08:00' },
      { ...event, endsAt: '2026-10-20T13:00:00+08:00' },
      { ...event, startsAt: '2026-10-20T14:05:00+08:00' },
      { ...event, sites: ['hd-b1', 'cy-nowhere'] },
    ]) {
      const r = await post(bad);
      badRequests.push({ status: r.status, field: (r.body as { field?: string }).field });
    }
    const clash = await post({
      ...event,
      sites: ['hd-b3'],
      startsAt: '2026-10-20T15:45:00+08:00',
      endsAt: '2026-10-20T17:00:00+08:00',
    });
    overlap = { status: clash.status, overlaps: (clash.body as { overlaps: string[] }).overlaps };
    // A grid operator of Haidian asks for an event of hd-b2 over MQTT, then sends it again; it also tries what it may
    // not: a request for another district, and a request refused for its content; a device tries to send one.
    const issue = app.get(credentials);
    const operatorSecret = await issue.issue('grid-haidian', 'dr_operator', 'haidian');
    const mqttUrl = `mqtt://127.0.0.1:${config.mqtt.port}`;
    const operator = await connectClient(mqttUrl, { username: 'grid-haidian', password: operatorSecret });
    const request = {
      requestId: 'sgcc-bj-2026-10-20-0001',
      sites: ['hd-b2'],
      startsAt: '2026-10-20T18:00:00+08:00',
      endsAt: '2026-10-20T19:00:00+08:00',
      requestedKw: 30,
      reason: 'evening peak',
    };
    for (const body of [request, request, { ...request, requestId: 'r-2', sites: ['hd-nowhere'] }])
      await operator.publishAsync(drRequestTopic('haidian'), JSON.stringify(body), { qos: 1 });
    await operator.publishAsync(drRequestTopic('haidian'), '{"requestId": "r-3", ', { qos: 1 });
    operatorRefusals.subscribe = await operator.subscribeAsync('alerts/v1/#', { qos: 1 }).then(
      () => 'granted',
      () => 'refused',
    );
    await operator.endAsync();
    // what the broker must refuse: closes the connection (MQTT 3.1.1 has no negative PUBACK)
    operatorRefusals.otherDistrict = await closedOnPublish(
      mqttUrl,
      'grid-haidian',
      operatorSecret,
      drRequestTopic('chaoyang'),
      request,
    );
    const deviceSecret = (await issueDeviceSecrets(app, ['b1-grid']))['b1-grid']!;
    operatorRefusals.device = await closedOnPublish(
      mqttUrl,
      'b1-grid',
      deviceSecret,
      drRequestTopic('haidian'),
      request,
    );
    // the listener has read the four requests
    const counted = async (outcome: string): Promise<number> =>
      metricOf(config.http.port, 'peakwatch_dr_requests_total', `outcome="${outcome}"`);
    const until = Date.now() + 30_000;
    while (Date.now() < until && (await counted('created')) + (await counted('repeated')) < 2)
      await new Promise((resolve) => setTimeout(resolve, 100));
    requests = {
      created: await counted('created'),
      repeated: await counted('repeated'),
      refusedSites: await counted('refused_sites'),
      refusedPayload: await counted('refused_payload'),
      // nor are they readings: ingest never sees them (none recorded as a device message on a bad topic)
      ingestBadTopic: await metricOf(
        config.http.port,
        'peakwatch_ingest_rejected_total',
        'reason="bad_topic"',
      ),
    };
    overMqtt = (
      (await http.get('/api/v1/dr-events').set('Authorization', `Bearer ${keys.get('regulator')}`))
        .body as DrEvent[]
    ).filter((e) => e.actor === 'mqtt:haidian');
    // the outbox delivers the announcements (every few seconds): two sites of the API's event, one of the operator's
    const deadline = Date.now() + 30_000;
    while ((webhooks.length < 3 || smtp.mails.length < 3 || onMqtt.length < 3) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 200));
    await observer.endAsync();
    stream.destroy();
    await app.close();
    app = undefined;

    // The day goes by: a week of the two offices' readings (hd-b3 answering the event), through the broker.
    app = await createApp(config, [INGEST_APP, API_APP], { clock: Clock.startingAt(MEASURED_AT) });
    const campus = loadScenario(join(SEEDS, 'scenarios/haidian-campus.yaml'));
    const tariffs = loadTariffs(join(SEEDS, 'tariffs'));
    const { divisions } = tariffs;
    truth = (await backfill({
      scenario: {
        ...campus,
        sites: campus.sites.filter((s) => s.id === 'hd-b1' || s.id === 'hd-b3'),
        faults: [],
        demandResponse: [
          { sites: ['hd-b3'], at: new Date(START).toISOString(), durationMinutes: 120, shed: SHED },
        ],
        // and hd-b1 answers its time-of-use tariff every day: 40 % of its power sub-meter out of the peak bands
        priceResponse: new Map([
          [
            'hd-b1',
            { shift: { power: 0.4 }, divisions, versions: tariffs.versions('bj-single-part-1-10kv') },
          ],
        ]),
      },
      seed: 5,
      fromMs: FROM,
      toMs: MEASURED_AT,
      brokerUrl: `mqtt://127.0.0.1:${config.mqtt.port}`,
      credentials: await issueDeviceSecrets(app),
      httpPort: config.http.port,
      clock: Clock.startingAt(MEASURED_AT),
    })) as Truth;
    // hd-b3's grid meter's readings of 14:35-15:00 have not arrived yet: taken out of InfluxDB
    const influx = await influxd.client('dr');
    const range = `device = 'b3-grid' AND time > ${START + 30 * 60_000}ms AND time < ${START + HOUR}ms`;
    const [held] = await influx.query(`SELECT * FROM telemetry WHERE ${range}`);
    expect(held?.rows).toHaveLength(5);
    const deleted = await fetch(
      `${influxd.url}/query?db=dr&q=${encodeURIComponent(`DELETE FROM telemetry WHERE ${range}`)}`,
      { method: 'POST' },
    );
    expect(deleted.status).toBe(200);
    // the KPI job at 17:00: every window of the week (late data), then the event that ended an hour ago
    const cron = new KpiCron(
      config,
      influx,
      app.get(Registry),
      loadPolicyData(SEEDS),
      new LiveEvents(),
      Clock.startingAt(MEASURED_AT),
      app.get(StateStore),
    );
    await cron.runOnce(MEASURED_AT);
    firstResult = (await new DrEvents(app.get(StateStore)).get(created.id))!.result!;
    // then they come, late, and the next run measures the event again
    const secret = (await issueDeviceSecrets(app, ['b3-grid']))['b3-grid']!;
    await publishLate(
      `mqtt://127.0.0.1:${config.mqtt.port}`,
      { siteId: 'hd-b3', deviceId: 'b3-grid', secret },
      held!.rows,
    );
    expect(await spoolDrained(config.http.port)).toBe(true);
    await cron.runOnce(MEASURED_AT + 15 * 60_000);
    const http2 = supertest(app.getHttpServer() as Server);
    for (const caller of ['regulator', 'fm-b3', 'fm-b2']) {
      const r = await http2
        .get(`/api/v1/dr-events/${created.id}`)
        .set('Authorization', `Bearer ${keys.get(caller)}`);
      if (r.status === 200) seen.set(caller, r.body as DrEvent);
    }
    capability = (
      await http2
        .get('/api/v1/dr-events/capability?district=haidian&year=2026')
        .set('Authorization', `Bearer ${keys.get('regulator')}`)
        .expect(200)
    ).body as Record<string, unknown>;
    capabilityFm = (
      await http2
        .get('/api/v1/dr-events/capability?district=haidian&year=2026')
        .set('Authorization', `Bearer ${keys.get('fm-b3')}`)
    ).status;
    days = await readKpis(influx, {
      scope: 'site',
      period: '1d',
      entities: ['hd-b1'],
      fromMs: FROM,
      toMs: END,
    });
  });
  afterAll(async () => {
    await app?.close();
    await influxd?.stop();
    await smtp?.close();
    await new Promise<void>((resolve) => receiver?.close(() => resolve()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** A site's true load (kW) of the quarter starting at `t`: its grid meter's imports × 4. */
  const load = (device: string, t: number): number => {
    const q = truth.devices[device]!.intervals15m['energy_import_kwh']!.find(([s]) => s === t);
    if (!q) throw new Error(`no true quarter ${new Date(t).toISOString()} of ${device}`);
    return q[1] * 4;
  };
  const quarters = (fromMs: number, n: number): number[] =>
    Array.from({ length: n }, (_, i) => fromMs + i * QUARTER);
  const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
  const daysBefore = BASELINE_DAYS.map((d) => (EVENT_DAY - beijingMidnight(d)) / DAY);

  /**
   * The rule of docs/domain.md worked from the truth: each event quarter's mean over the five baseline days, times
   * the same-day ratio of 11:00-13:00 (eight quarters ending an hour before 14:00) bounded to 0.8-1.2, less the load.
   */
  const byRule = (device: string) => {
    const event = quarters(START, 8);
    const morning = quarters(START - 3 * HOUR, 8);
    const baseline = (t: number): number => mean(daysBefore.map((d) => load(device, t - d * DAY)));
    const ratio =
      morning.reduce((s, t) => s + load(device, t), 0) / morning.reduce((s, t) => s + baseline(t), 0);
    const factor = Math.min(1.2, Math.max(0.8, ratio));
    return {
      factor,
      baselineKw: mean(event.map((t) => baseline(t) * factor)),
      reducedKw: mean(event.map((t) => baseline(t) * factor - load(device, t))),
      /** What it would have drawn without the event, less its baseline: the rule's own error. */
      baselineErrorKw: mean(event.map((t) => baseline(t) * factor - load(device, t))) - delivered(device),
    };
  };
  /** The reduction the simulator delivered: its load without the event less its load, over the event (kW). */
  const delivered = (device: string): number => {
    const site = device === 'b3-grid' ? 'hd-b3' : 'hd-b1';
    const saved = truth.sites[site]!.drReduction15m ?? [];
    return saved.filter(([t]) => t >= START && t < END).reduce((s, [, kwh]) => s + kwh * 4, 0) / 8;
  };
  /** A quarter's kW from the register: two readings to 0.001 kWh, × 4; means of them are no less exact. */
  const tolerance = 4 * 2 * registerTolerance() + 4 * 6 * TRUTH_ROUNDING;

  it('announces the event to the facility managers by webhook, e-mail and MQTT, once per site', () => {
    expect(created.siteIds).toEqual(['hd-b1', 'hd-b3']);
    expect(created.district).toBe('haidian');
    // the facility managers' webhook of the district, signed; never the regulator's
    const ofEvent = webhooks.filter((w) => w.body['id'] === created.id);
    expect(ofEvent.map((w) => [w.path, w.signatureOk, w.body['siteId']]).sort()).toEqual([
      ['/fm', true, 'hd-b1'],
      ['/fm', true, 'hd-b3'],
    ]);
    for (const w of ofEvent)
      expect(w.body).toMatchObject({
        kind: 'dr_event',
        id: created.id,
        startsAt: new Date(START).toISOString(),
        endsAt: new Date(END).toISOString(),
        requestedKw: REQUESTED_KW,
      });
    // with the operator's event of hd-b2: one e-mail and one MQTT message per site of each event
    expect(smtp.mails.map((m) => m.to)).toEqual(Array.from({ length: 3 }, () => ['fm@campus.example']));
    // in Chinese, the facility managers' default language (ALERT_LANGUAGES)
    expect(
      smtp.mails.map((m) => /^\[PeakWatch\] 需求响应：(hd-b\d)，/.exec(subjectOf(m.raw))?.[1]).sort(),
    ).toEqual(['hd-b1', 'hd-b2', 'hd-b3']);
    expect(onMqtt.map((m) => [m.topic, m.body['id']]).sort()).toEqual(
      [
        ['alerts/v1/haidian/hd-b1/dr', created.id],
        ['alerts/v1/haidian/hd-b2/dr', overMqtt[0]?.id],
        ['alerts/v1/haidian/hd-b3/dr', created.id],
      ].sort(),
    );
  });

  it("tells the site's live stream, and only the event's sites", () => {
    const events = streamed
      .join('')
      .split('\n\n')
      .filter((e) => /^event: dr_event$/m.test(e))
      .map((e) => JSON.parse(/^data: (.*)$/m.exec(e)![1]!) as Record<string, unknown>);
    // hd-b3 is in the API's event, not in the operator's (hd-b2)
    expect(events.map((e) => [e['id'], e['siteId']])).toEqual([[created.id, 'hd-b3']]);
  });

  it("takes a grid operator's request over MQTT as one event, once, and refuses what it may not ask", () => {
    // the request sent twice is one event, of the operator's district, announced once (above)
    expect(overMqtt).toHaveLength(1);
    expect(overMqtt[0]).toMatchObject({
      district: 'haidian',
      siteIds: ['hd-b2'],
      startsAt: '2026-10-20T10:00:00.000Z',
      requestedKw: 30,
      role: 'dr_operator',
    });
    expect(requests).toEqual({
      created: 1,
      repeated: 1,
      refusedSites: 1,
      refusedPayload: 1,
      ingestBadTopic: 0,
    });
    // the broker refuses another district's topic, a device on the request topic, and any subscription of the operator
    expect(operatorRefusals).toEqual({ subscribe: 'refused', otherDistrict: true, device: true });
  });

  it('refuses an event in the past, backwards, off the quarter hour, of an unknown site, or overlapping', () => {
    expect(badRequests).toEqual([
      { status: 400, field: 'startsAt' },
      { status: 400, field: 'endsAt' },
      { status: 400, field: 'startsAt' },
      { status: 400, field: 'sites.1' },
    ]);
    expect(overlap).toEqual({ status: 409, overlaps: [created.id] });
  });

  it("measures each site's response by the documented baseline rule, as worked from the truth", () => {
    const result = seen.get('regulator')!.result!;
    expect(result.sites.map((s) => s.siteId)).toEqual(['hd-b1', 'hd-b3']);
    for (const [site, device] of [
      ['hd-b1', 'b1-grid'],
      ['hd-b3', 'b3-grid'],
    ] as const) {
      const measured = result.sites.find((s) => s.siteId === site)!;
      const rule = byRule(device);
      expect(measured.baselineDays).toEqual(BASELINE_DAYS);
      expectWithin(measured.adjustment, rule.factor, 1e-3);
      expectWithin(measured.baselineKw, rule.baselineKw, tolerance);
      expectWithin(measured.reducedKw, rule.reducedKw, 2 * tolerance);
      expectWithin(measured.shiftedKwh, rule.reducedKw * 2, 4 * tolerance); // 2 hours
      expect(measured.completeness).toBe(1);
    }
  });

  it('measures the event again when readings of its quarters come late', () => {
    // the quarters 14:30 and 14:45 of hd-b3 were spread over the gap at first (estimated): 6 of its 8 quarters known
    const first = firstResult.sites.find((s) => s.siteId === 'hd-b3')!;
    expect(first.completeness).toBe(6 / 8);
    expect(firstResult.total.completeness).toBe((1 + 6 / 8) / 2);
    // and once they came, all 8 (the other test checks the values against the truth)
    const last = seen.get('regulator')!.result!.sites.find((s) => s.siteId === 'hd-b3')!;
    expect(last.completeness).toBe(1);
  });

  it('measures the reduction the simulator delivered, within the baseline rule’s own error', () => {
    const result = seen.get('regulator')!.result!;
    const b3 = result.sites.find((s) => s.siteId === 'hd-b3')!;
    const truly = delivered('b3-grid');
    // hd-b3 shed half its HVAC and 30 % of its lighting: some 60 kW of its ~300
    expect(truly).toBeGreaterThan(40);
    // measured = delivered + the baseline's error (the rule's estimate of the load without the event, less that load)
    expectWithin(b3.reducedKw, truly + byRule('b3-grid').baselineErrorKw, 2 * tolerance);
    // on a steady, mild week that error is small: within 5 % of the reduction
    expect(Math.abs(byRule('b3-grid').baselineErrorKw)).toBeLessThan(0.05 * truly);
    // hd-b1 delivered nothing (its PV and weather move its baseline a little either way)
    expect(delivered('b1-grid')).toBe(0);
  });

  it("measures hd-b1's answer to its tariff: the peak bands' share of a day, lowered by what the simulator moved", () => {
    // Monday 19 October: October has no critical hours; the peak bands are 10-13 and 17-22 (seeds/tariffs)
    const day = beijingMidnight('2026-10-19');
    const dayQuarters = quarters(day, 96);
    const inPeak = (t: number): boolean => {
      const hour = (t - day) / HOUR;
      return (hour >= 10 && hour < 13) || (hour >= 17 && hour < 22);
    };
    const shift = new Map(truth.sites['hd-b1']!.priceShift15m);
    const kwh = (t: number): number => load('b1-grid', t) / 4;
    const sum = (f: (t: number) => number, only: (t: number) => boolean = () => true): number =>
      dayQuarters.filter(only).reduce((s, t) => s + f(t), 0);
    // what it bought in the peak bands, and what it would have without answering (the truth's shift added back)
    const peakKwh = sum(kwh, inPeak);
    const withoutKwh = sum((t) => kwh(t) + (shift.get(t) ?? 0), inPeak);
    const moved = sum((t) => shift.get(t) ?? 0, inPeak);
    expect(moved).toBeGreaterThan(100); // some 40 % of ~30 kW over 8 hours
    expectWithin(withoutKwh - peakKwh, moved, 1e-6);
    const share = days.find((k) => k.kpi === 'peak_band_share' && k.windowStartMs === day)!;
    const energy = sum(kwh);
    // the measured share is the truth's: each quarter's kWh to the register's 0.001
    expectWithin(share.value, peakKwh / energy, (96 * registerTolerance()) / energy);
    // and lower than it would have been, by the kWh moved out of the peak bands
    expectWithin(share.numerator, withoutKwh - moved, 2 * 32 * registerTolerance());
    expect(share.value!).toBeLessThan(withoutKwh / sum((t) => kwh(t) + (shift.get(t) ?? 0)) - 0.01);
  });

  it('shares the request by baseline, judges each site and the total, and shows each caller its part', () => {
    const result = seen.get('regulator')!.result!;
    const [b1, b3] = [byRule('b1-grid'), byRule('b3-grid')];
    const totalBaseline = b1.baselineKw + b3.baselineKw;
    for (const [site, rule] of [
      ['hd-b1', b1],
      ['hd-b3', b3],
    ] as const) {
      const s = result.sites.find((x) => x.siteId === site)!;
      const share = (REQUESTED_KW * rule.baselineKw) / totalBaseline;
      expectWithin(s.requestedKw, share, 0.01);
      expect(s.met).toBe(rule.reducedKw >= share);
    }
    expectWithin(result.total.reducedKw, b1.reducedKw + b3.reducedKw, 4 * tolerance);
    expect(result.total.met).toBe(b1.reducedKw + b3.reducedKw >= REQUESTED_KW);
    expect(result.total.completeness).toBe(1);
    // a facility manager sees its own site's result; one of another site sees no event at all
    expect(seen.get('fm-b3')!.siteIds).toEqual(['hd-b3']);
    expect(seen.get('fm-b3')!.result!.sites.map((s) => s.siteId)).toEqual(['hd-b3']);
    expect(seen.has('fm-b2')).toBe(false);
  });

  it("gives the district's peak-shaving capability against its maximum load of the year", () => {
    const result = seen.get('regulator')!.result!;
    // the district's coincident peak: its two sites' summed quarters over the week, the largest
    const all = truth.devices['b1-grid']!.intervals15m['energy_import_kwh']!.map(([t]) => t);
    const peak = Math.max(...all.map((t) => load('b1-grid', t) + load('b3-grid', t)));
    expectWithin(capability['maxLoadKw'] as number, peak, 2 * tolerance);
    expect(capability).toMatchObject({ district: 'haidian', year: 2026, events: 1, event: created.id });
    expectWithin(capability['reducedKw'] as number, result.total.reducedKw!, 1e-9);
    expectWithin(capability['share'] as number, result.total.reducedKw! / peak, 1e-4);
    expect(capability['target']).toEqual({ from: 0.03, to: 0.05 });
    expect(capabilityFm).toBe(403);
  });

  it('draws the event on its dashboard: the load against the baseline, the results, the capability', async () => {
    const influx = await influxd.client('dr');
    const board = dashboards(loadPolicyData(SEEDS), 'zh-CN')['demand-response.json']!;
    // the range of a panel shown for "this year" (the capability) as well as of the week
    const substitute = (query: string): string =>
      grafanaQuery(query, {
        fromMs: beijingMidnight('2026-01-01'),
        toMs: MEASURED_AT + DAY,
        sites: ['hd-b1', 'hd-b3'],
        districts: ['haidian'],
      });
    const queries = dashboardQueries(board);
    expect(queries.length).toBeGreaterThanOrEqual(5);
    for (const q of queries) await expectPanelRows(influx, substitute(q.query));
    // the baseline drawn is the one measured: hd-b3's 8 quarters average to its baseline
    const baseline = queries.find((q) => q.query.includes('dr_baseline_kw'))!;
    const [b3] = (await influx.query(substitute(baseline.query))).filter((s) => s.tags['entity'] === 'hd-b3');
    expect(b3!.rows.map((r) => r['time'])).toEqual(quarters(START, 8));
    const drawn = b3!.rows.map((r) => r['baseline_kw'] as number);
    const measured = seen.get('regulator')!.result!.sites.find((s) => s.siteId === 'hd-b3')!;
    expectWithin(mean(drawn), measured.baselineKw!, 1e-6);
  });
});

/** Whether the broker closes the connection of `username` when it publishes `body` on `topic` (QoS 1). */
async function closedOnPublish(
  url: string,
  username: string,
  password: string,
  topic: string,
  body: object,
): Promise<boolean> {
  const client = await connectClient(url, { username, password });
  const closed = new Promise<boolean>((resolve) => client.once('close', () => resolve(true)));
  client.publish(topic, JSON.stringify(body), { qos: 1 });
  const result = await Promise.race([
    closed,
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5_000)),
  ]);
  await client.endAsync(true);
  return result;
}
