import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { AlertEvaluator, IncidentDesk, OutboxDispatcher, type AlertNotification } from '@peakwatch/alerts';
import { ALERTS_APP } from '@peakwatch/alerts';
import { API_APP, ApiKeysRepository } from '@peakwatch/api';
import supertest from 'supertest';
import { ANALYTICS_APP, KpiCron } from '@peakwatch/analytics';
import { readKpis } from '@peakwatch/metering';
import type { AppConfig } from '@peakwatch/config';
import { Simulation, generate, loadScenario } from '@peakwatch/device-sim';
import { INGEST_APP } from '@peakwatch/ingest';
import { freePort } from '@peakwatch/process';
import { Clock, createApp } from '@peakwatch/runtime';
import { StateStore } from '@peakwatch/state';
import { testStateStoreKind } from '../support/postgres';
import { copySeeds } from '../support/seeds';
import { startInfluxd, type TestInfluxd } from '../support/influxd';
import { DAY, HOUR, beijingMidnight, beijingWeekday } from '../support/calendar';
import { backfill, issueDeviceSecrets, spoolDrained, stopSchedules, testConfig } from '../support/ingest';
import { connectClient } from '../support/mqtt';
import { startSmtp, subjectOf, type TestSmtp } from '../support/smtp';
import { expectWithin, pueTolerance } from '../support/tolerance';
import { startReceiver, type Received, type TestReceiver } from '../support/webhooks';

/**
 * The simulated period: Tuesday 13 and Wednesday 14 January 2026, two working days (the offices' load, and so the
 * flapping hourly energy, follows working hours) in the heating season, in a year whose 1 January is before them
 * (the year to date), after the existing data centres' 1.35 limit took effect (1 January 2026).
 */
const FROM = beijingMidnight('2026-01-13');
/** The product's clock: 10:00 the day after the two days (as when "yesterday" is judged in the morning). */
const CLOCK_AT = FROM + 3 * DAY + 10 * HOUR;
const QUARTER = 15 * 60_000;
const SECRET = 'test-webhook-secret-0123456789';
/** A test rule every office breaches every day, held by the data-quality gate on an incomplete day. */
const GATED = 'office-energy-gated';

/**
 * Alerts end to end: two days of the sample campus through the real broker, ingest and influxd, with the data centre
 * (here an existing one, commissioned 2019: limit 1.35) drifting upwards from the start of day 0, a heat pump offline for
 * 45 minutes and a meter without data for most of day 0. The KPI job computes the windows; the alert evaluator runs
 * every 15 minutes of the two days; a real HTTP receiver per audience gets the webhooks.
 */
describe('alerts: rules over the simulator, notifications to real receivers', () => {
  // an existing data centre (limit 1.35) whose plant drifts from the start of day 0 by 0.3 a day: day 0's PUE is at
  // least 1.25 + 0.15 = 1.40 whatever the weather (the band's floor is 1.25), so day 0 breaches in any season; and a
  // meter without data most of day 0
  const seeds = copySeeds({
    'sites/hd-dc1.yaml': [["commissionedOn: '2021-06-01'", "commissionedOn: '2019-01-01'"]],
    'scenarios/haidian-campus.yaml': [
      [
        / {2}hd-dc1: .*\n/,
        '  hd-dc1: { itLoadKw: 400, pueLow: 1.25, pueHigh: 1.55, drift: { since: +0d00h, puePerDay: 0.3 } }\n',
      ],
      ['faults:\n', 'faults:\n  - { type: gap, device: b3-lighting, at: +0d02h, durationMinutes: 1200 }\n'],
    ],
  });
  const dataDir = mkdtempSync(join(tmpdir(), 'peakwatch-alerts-'));
  let influxd: TestInfluxd;
  let receiver: TestReceiver<AlertNotification>;
  let config: AppConfig;
  let app: INestApplication;
  const fromMs = FROM;
  const clock = Clock.startingAt(CLOCK_AT);
  let evaluations = 0;
  const alertsOnMqtt: string[] = [];
  let smtp: TestSmtp;
  let truth: {
    sites: Record<string, { days: { consumptionKwh: number; itKwh?: number }[] }>;
    devices: Record<string, { intervals15m: Record<string, [number, number][]> }>;
  };
  let hourlyEnergy: Map<number, number>;
  let flapThreshold: number;
  let flapMargin: number;
  /** hd-b3's hourly energy (no PV behind its grid meter: its grid import) from the truth's quarter-hour energies. */
  const hourly = (devices: typeof truth.devices): Map<number, number> => {
    const sums = (device: string): Map<number, number> => {
      const m = new Map<number, number>();
      for (const [t, kwh] of devices[device]!.intervals15m['energy_import_kwh']!)
        m.set(Math.floor(t / HOUR) * HOUR, (m.get(Math.floor(t / HOUR) * HOUR) ?? 0) + kwh);
      return m;
    };
    return sums('b3-grid');
  };

  /** Evaluates at each quarter hour of [from, to) (virtual "now"), then delivers the outbox. */
  const evaluate = async (from: number, to: number, deliverAheadMs: number): Promise<void> => {
    for (let t = from; t < to; t += QUARTER, evaluations++) await app.get(AlertEvaluator).runOnce(t);
    // the data-quality alerts held at the last evaluation (incidents: INCIDENT_WAIT_MINUTES) decided as the next would
    await app.get(IncidentDesk).settle(to);
    // deliver what is due `deliverAheadMs` from now (a day: past any backoff), pass after pass
    const outbox = app.get(OutboxDispatcher);
    for (let pass = 0; pass < 100 && (await outbox.deliverDue(clock.now() + deliverAheadMs)) > 0; pass++);
  };
  const start = async (): Promise<void> => {
    app = await createApp(config, [INGEST_APP, ANALYTICS_APP, ALERTS_APP, API_APP], { clock });
    stopSchedules(app); // evaluated by the test at virtual times only
  };

  beforeAll(async () => {
    expect([beijingWeekday(fromMs), beijingWeekday(fromMs + DAY)]).toEqual([2, 3]); // Tuesday, Wednesday
    const scenarioFile = join(seeds, 'scenarios', 'haidian-campus.yaml');
    // a policy rule for the site and the regulator on the daily PUE, past the data-quality gate on complete days
    writeFileSync(
      join(seeds, 'alert-rules', 'regulator-test.yaml'),
      [
        'rules:',
        '  - { id: dc-pue-daily-regulator, title: Daily PUE above the limit, titleZh: 日电能利用效率（PUE）超过限值,',
        '      signal: { kpi: pue, period: 1d },',
        "      sites: { type: data_centre, commissionedBefore: '2021-01-01' }, comparison: above,",
        '      threshold: { policy: beijing-existing-dc-pue-2026 }, clearMargin: 0.02, for: 0m, severity: critical,',
        '      audience: [facility_manager, regulator], minCompleteness: 0.9 }',
        // one any office breaches every day, to see the data-quality gate hold a day with too few readings
        `  - { id: ${GATED}, title: Daily energy of an office, signal: { kpi: energy_kwh, period: 1d },`,
        '      sites: { type: office }, comparison: above, threshold: { value: 0 }, clearMargin: 0, for: 0m,',
        "      severity: info, audience: [facility_manager, regulator], minCompleteness: 0.9, source: { document: 'test' } }",
        '',
      ].join('\n'),
    );
    // A value flapping around its threshold: hd-b3's hourly energy, with the threshold at the median of its working
    // hours, known beforehand from the same simulation run offline (it is deterministic).
    const offline = new Simulation(loadScenario(scenarioFile), { seed: 3, fromMs });
    for (const item of generate(offline, fromMs + 2 * DAY)) void item;
    hourlyEnergy = hourly((offline.truth.build(fromMs + 2 * DAY) as typeof truth).devices);
    // the median of the working hours' plateau (09:00-17:00), where the load wanders around it
    const values = [...hourlyEnergy]
      .filter(
        ([h]) => h < fromMs + 2 * DAY && (h - fromMs) % DAY >= 9 * HOUR && (h - fromMs) % DAY < 17 * HOUR,
      )
      .map(([, v]) => v);
    flapThreshold = Math.round(values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!);
    flapMargin = Math.round(flapThreshold * 0.1);
    // clear of every hourly value by 1 kWh, so that the meters' rounding cannot decide a comparison
    const near = (x: number): boolean => [...hourlyEnergy.values()].some((v) => Math.abs(v - x) < 1);
    while (near(flapThreshold) || near(flapThreshold - flapMargin)) flapThreshold++;
    writeFileSync(
      join(seeds, 'alert-rules', 'flapping-test.yaml'),
      [
        'rules:',
        `  - { id: hourly-energy-flapping, title: Hourly energy around its median, signal: { kpi: energy_kwh, period: 1h },`,
        `      sites: { type: office }, comparison: above, threshold: { value: ${flapThreshold} }, clearMargin: ${flapMargin},`,
        "      for: 1h, severity: info, audience: [facility_manager], source: { document: 'test' } }",
        '',
      ].join('\n'),
    );
    // a real SMTP server for the facility managers' e-mails
    smtp = await startSmtp();
    influxd = await startInfluxd();
    receiver = await startReceiver<AlertNotification>(SECRET);
    config = await testConfig(influxd.url, 'alerts', dataDir, {
      SEEDS_DIR: seeds,
      ALERT_WEBHOOKS: `facility_manager=${receiver.url}/fm,regulator@haidian=${receiver.url}/haidian,regulator@chaoyang=${receiver.url}/chaoyang`,
      ALERT_WEBHOOK_SECRET: SECRET,
      ALERT_EMAILS: 'facility_manager=fm@campus.example,regulator@haidian=energy@hd.example.cn',
      // the facility managers read English here; the regulators keep the default, Chinese
      ALERT_LANGUAGES: 'facility_manager=en',
      ALERT_SMTP_URL: smtp.url,
      ALERT_ESCALATE_AFTER_MINUTES: '180',
    });
    await start();
    const secrets = await issueDeviceSecrets(app);
    const { CredentialsRepository } = await import('@peakwatch/state');
    const credentials = app.get(CredentialsRepository);
    truth = (await backfill({
      scenario: loadScenario(scenarioFile),
      seed: 3,
      fromMs,
      toMs: fromMs + 2 * DAY,
      brokerUrl: `mqtt://127.0.0.1:${config.mqtt.port}`,
      credentials: secrets,
      httpPort: config.http.port,
      clock,
    })) as typeof truth;
    // b1-lighting's register reads 0 at 10:00 on day 1, no replacement declared: an unexplained drop (and the jump back)
    const lighting = await connectClient(`mqtt://127.0.0.1:${config.mqtt.port}`, {
      username: 'b1-lighting',
      password: secrets['b1-lighting']!,
    });
    await lighting.publishAsync(
      'energy/v1/hd-b1/b1-lighting/telemetry',
      JSON.stringify({ ts: fromMs + DAY + 10 * HOUR, values: { energy_import_kwh: 0 } }),
      { qos: 1 },
    );
    await lighting.endAsync();
    expect(await spoolDrained(config.http.port)).toBe(true);
    await app.get(KpiCron).runOnce(clock.now());

    // an observer of the alert topics on the broker (a service client)
    const observerSecret = await credentials.issue('alert-observer', 'service', null);
    const observer = await connectClient(`mqtt://127.0.0.1:${config.mqtt.port}`, {
      username: 'alert-observer',
      password: observerSecret,
    });
    observer.on('message', (topic) => alertsOnMqtt.push(topic));
    await observer.subscribeAsync('alerts/v1/#', { qos: 1 });

    // day 0 with the facility managers' receiver down, then a restart of the process, then day 1 with it up
    receiver.down = true;
    await evaluate(fromMs + HOUR, fromMs + DAY, 0);
    receiver.down = false;
    await app.close();
    await start();
    // up to the end of the backfill: later, every device would be silent
    await evaluate(fromMs + DAY, fromMs + 2 * DAY + QUARTER, DAY);
    await observer.endAsync();
  });
  afterAll(async () => {
    await app?.close();
    await smtp?.close();
    await receiver?.close();
    await influxd?.stop();
    rmSync(seeds, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  const got = (path: string, ruleId?: string, entity?: string): Received<AlertNotification>[] =>
    receiver.got.filter(
      (r) =>
        r.path === path && (!ruleId || r.body.rule.id === ruleId) && (!entity || r.body.entity.id === entity),
    );

  it('signs every webhook, and delivers each notification once (the receiver was down, the process restarted)', () => {
    expect(evaluations).toBe((DAY - HOUR + DAY + QUARTER) / QUARTER); // every quarter hour of the two days
    expect(receiver.got.length).toBeGreaterThan(0);
    expect(receiver.got.every((r) => r.signatureOk)).toBe(true);
    const deliveries = receiver.got.map((r) => r.delivery);
    expect(new Set(deliveries).size).toBe(deliveries.length);
    // one firing and at most one resolved per rule, entity and episode, firing first
    const episodes = new Map<string, string[]>();
    for (const r of receiver.got.filter((x) => x.body.state !== 'escalated')) {
      const key = `${r.path} ${r.body.rule.id} ${r.body.entity.id} ${r.body.episode}`;
      episodes.set(key, [...(episodes.get(key) ?? []), r.body.state]);
    }
    for (const states of episodes.values()) expect(['firing', 'firing,resolved']).toContain(states.join(','));
  });

  it('does not follow a receiver that redirects its webhook to an internal address', async () => {
    // the "internal" service the redirect points at, and a receiver that answers every POST with a 307 to it
    let internalHits = 0;
    const internal = createServer((_req, res) => {
      internalHits++;
      res.writeHead(200).end('{"secret":"internal"}');
    });
    const redirector = createServer((_req, res) => {
      res.writeHead(307, { location: `http://127.0.0.1:${internalPort}/admin` }).end();
    });
    const [internalPort, redirectorPort] = [await freePort(), await freePort()];
    await new Promise<void>((r) => internal.listen(internalPort, '127.0.0.1', r));
    await new Promise<void>((r) => redirector.listen(redirectorPort, '127.0.0.1', r));
    try {
      const store = app.get(StateStore);
      const now = new Date(clock.now()).toISOString();
      const id = '00000000-0000-5000-8000-0000000000aa';
      await store.db
        .insertInto('outbox')
        .values({
          delivery_id: id,
          channel: 'webhook',
          target: `http://127.0.0.1:${redirectorPort}/hook`,
          payload: '{"probe":true}',
          created_at: now,
          attempts: 0,
          next_attempt_at: now,
          delivered_at: null,
          last_error: null,
          receipt: null,
        })
        .execute();
      await app.get(OutboxDispatcher).deliverDue(clock.now());
      const row = await store.db
        .selectFrom('outbox')
        .selectAll()
        .where('delivery_id', '=', id)
        .executeTakeFirstOrThrow();
      expect(internalHits).toBe(0);
      expect(row.delivered_at).toBeNull();
      expect(row.receipt).toBeNull();
      expect(row.last_error).toMatch(/307: redirects are not followed/);
      await store.db.deleteFrom('outbox').where('delivery_id', '=', id).execute();
    } finally {
      await new Promise<void>((r) => internal.close(() => r()));
      await new Promise<void>((r) => redirector.close(() => r()));
    }
  });

  it('tells the facility manager when the drifting data centre breaches 1.35 on a day, with the policy source', () => {
    const [daily] = got('/fm', 'dc-pue-daily-existing', 'hd-dc1').filter((r) => r.body.state === 'firing');
    expect(daily).toBeDefined();
    // by hand from the ground truth: the day's PUE is its facility energy over its IT energy
    const day = (Date.parse(daily!.body.window!.start) - fromMs) / DAY;
    expect(day).toBe(0); // day 0 breaches whatever the weather (see the scenario above)
    const { consumptionKwh, itKwh } = truth.sites['hd-dc1']!.days[day]!;
    expect(daily!.body.value).toBeGreaterThan(1.35);
    const pue = consumptionKwh / itKwh!;
    expectWithin(daily!.body.value, pue, pueTolerance(consumptionKwh, pue));
    expect(daily!.body).toMatchObject({
      severity: 'warning',
      threshold: 1.35,
      comparison: 'above',
      entity: { type: 'site', id: 'hd-dc1', district: 'haidian' },
      policySource: { policyId: 'beijing-existing-dc-pue-2026' },
    });
    expect(daily!.body.policySource.document).toContain('北京市存量数据中心优化工作方案');
  });

  it('forecasts the annual PUE breach from the year to date, with the differential tariff it would cost', () => {
    const [forecast] = got('/fm', 'dc-pue-forecast-existing', 'hd-dc1');
    expect(forecast!.body.state).toBe('firing');
    // fired after its `for` of a day: the first evaluation a day after the year-to-date PUE went above 1.35
    expect(Date.parse(forecast!.body.at)).toBeGreaterThanOrEqual(fromMs + HOUR + DAY);
    // by hand: the year-to-date energies (the days of the backfill since 1 January 2026) annualised over the time
    // elapsed since 1 January, over-limit electricity F − 1.35 × I at 0.2 CNY/kWh (less than 1× over)
    expect(forecast!.body.window!.start).toBe('2025-12-31T16:00:00.000Z'); // 1 January 2026, Beijing
    // monitoring began with the backfill's first reading, on 13 January: the year to date is judged from there
    expect(forecast!.body.judgedFrom).toBe(new Date(fromMs).toISOString());
    const days = truth.sites['hd-dc1']!.days.filter(
      (_, i) => fromMs + i * DAY >= Date.parse(forecast!.body.window!.start),
    );
    expect(days).toHaveLength(2);
    const scale = (365 * DAY) / (Date.parse(forecast!.body.at) - fromMs);
    const facility = days.reduce((sum, d) => sum + d.consumptionKwh, 0) * scale;
    const it = days.reduce((sum, d) => sum + d.itKwh!, 0) * scale;
    expect(forecast!.body.value).toBeCloseTo(facility / it, 2);
    expect(Math.abs(forecast!.body.expectedCostCny! - (facility - 1.35 * it) * 0.2)).toBeLessThan(
      0.01 * (facility - 1.35 * it) * 0.2,
    );
  });

  it("tells the regulator of the site's district a complete day's breach, once, and no one else's regulator", () => {
    const regulator = got('/haidian').filter((r) => r.body.rule.id !== GATED);
    // fired once; escalated once, unacknowledged for 3 hours (ALERT_ESCALATE_AFTER_MINUTES)
    expect(regulator.map((r) => [r.body.rule.id, r.body.entity.id, r.body.state])).toEqual([
      ['dc-pue-daily-regulator', 'hd-dc1', 'firing'],
      ['dc-pue-daily-regulator', 'hd-dc1', 'escalated'],
    ]);
    expect(regulator[0]!.body.completeness).toBeGreaterThanOrEqual(0.9);
    expect(got('/chaoyang')).toEqual([]);
    // the site heard of it when it fired; the escalation is the regulator's alone
    expect(got('/fm', 'dc-pue-daily-regulator', 'hd-dc1').map((r) => r.body.state)).toEqual(['firing']);
  });

  it('holds back a breach on a day with too few readings from the regulator (data-quality gate), and tells the site why', () => {
    // hd-b3's lighting meter is silent for 20 of day 0's hours (completeness below 0.9): day 0 is not judged, and
    // its facility manager hears why; day 1 is complete, and judged
    const [day0, day1] = [fromMs, fromMs + DAY].map((ms) => new Date(ms).toISOString());
    const gate = got('/fm', `${GATED}.data-quality`, 'hd-b3');
    expect(gate.map((r) => r.body.state)).toEqual(['firing', 'resolved']);
    expect(gate[0]!.body.window).toEqual({ period: '1d', start: day0 });
    expect(gate[0]!.body.value).toBeLessThan(0.9);
    expect(got('/haidian', `${GATED}.data-quality`)).toEqual([]);
    const judged = (path: string, site: string): (string | undefined)[] =>
      got(path, GATED, site)
        .filter((r) => r.body.state === 'firing')
        .map((r) => r.body.window?.start);
    expect(judged('/haidian', 'hd-b3')).toEqual([day1]);
    expect(judged('/fm', 'hd-b3')).toEqual([day1]);
    // hd-b1's day 0 was complete: judged on day 0
    expect(judged('/haidian', 'hd-b1')).toEqual([day0]);
  });

  it('judges no year or 12 months on two days of monitoring: no breach for the regulator, no data-quality alert', async () => {
    // the data centre's rolling 12-month PUE of the two days breaches 1.35 (day 0 alone is at least 1.40), and the
    // 12 months lack 363 days of readings they could never have had: two days are not a tenth of 12 months
    const rolling = receiver.got.filter((r) => r.body.rule.id.startsWith('dc-pue-rolling-existing'));
    expect(rolling).toEqual([]);
    // there was something to judge: the stored rolling 12-month PUE of the two days is above 1.35
    const stored = await readKpis(await influxd.client('alerts'), {
      scope: 'site',
      period: 'rolling_12mo',
      fromMs: 0,
      toMs: CLOCK_AT,
      entities: ['hd-dc1'],
    });
    expect(stored.filter((k) => k.kpi === 'pue').some((k) => (k.value ?? 0) > 1.35)).toBe(true);
    // nor any rule gated on the completeness of a year (the quota audit) or a rolling 12 months
    const long = receiver.got.filter(
      (r) =>
        r.body.rule.id.endsWith('.data-quality') && ['1y', 'rolling_12mo'].includes(r.body.window!.period),
    );
    expect(long).toEqual([]);
  });

  it('reports the heat pump silent for 45 minutes, once, and its return', () => {
    const silent = got('/fm', 'device-silent', 'b2-hp1');
    expect(silent.map((r) => r.body.state)).toEqual(['firing', 'resolved']);
    const offlineAt = fromMs + DAY + 20 * HOUR; // the scenario's fault: +1d20h for 45 minutes
    expect(Date.parse(silent[0]!.body.at)).toBeGreaterThanOrEqual(offlineAt + 15 * 60_000);
    expect(Date.parse(silent[0]!.body.at)).toBeLessThanOrEqual(offlineAt + 45 * 60_000);
    expect(Date.parse(silent[1]!.body.at)).toBeGreaterThanOrEqual(offlineAt + 45 * 60_000);
    // and the devices silent for longer than 15 minutes are exactly those the scenario's gaps and outages name
    expect(new Set(got('/fm', 'device-silent').map((r) => r.body.entity.id))).toEqual(
      new Set(['b2-hp1', 'b2-lighting', 'b3-lighting']),
    );
  });

  it('does not flap: a value crossing its threshold again and again fires and resolves as the rule says', () => {
    // the oracle, by hand from the rule: each quarter hour the last whole hour is judged; above the threshold for an
    // hour fires; back at or below threshold − margin resolves; in between nothing changes
    let state: 'inactive' | 'pending' | 'firing' = 'inactive';
    let since = 0;
    let crossings = 0;
    let above = false;
    const expected: string[] = [];
    for (let t = fromMs + HOUR; t < fromMs + 2 * DAY + QUARTER; t += QUARTER) {
      const value = hourlyEnergy.get(Math.floor((t - HOUR) / HOUR) * HOUR)!;
      if (value > flapThreshold !== above) crossings++;
      above = value > flapThreshold;
      if (state === 'inactive' && above) [state, since] = ['pending', t];
      else if (state === 'pending' && !above) state = 'inactive';
      else if (state === 'pending' && t - since >= HOUR) [state] = ['firing', expected.push('firing')];
      else if (state === 'firing' && value <= flapThreshold - flapMargin)
        [state] = ['inactive', expected.push('resolved')];
    }
    expect(crossings).toBeGreaterThan(4); // it does flap around the threshold
    const states = got('/fm', 'hourly-energy-flapping', 'hd-b3')
      .filter((r) => r.body.state !== 'escalated')
      .map((r) => r.body.state);
    expect(states).toEqual(expected);
    expect(states.length).toBeLessThan(crossings);
  });

  it("reports a register drop nobody explained, on the day it happened, to the site's facility manager", () => {
    const anomaly = got('/fm', 'register-anomaly');
    expect(anomaly.map((r) => [r.body.entity.id, r.body.state, r.body.window?.start])).toEqual([
      ['hd-b1', 'firing', new Date(fromMs + DAY).toISOString()],
    ]);
    expect(anomaly[0]!.body.value).toBe(2); // the drop to 0, and the jump back that no meter could make in 5 minutes
    expect(got('/haidian', 'register-anomaly')).toEqual([]);
  });

  it("e-mails the facility manager every notification the facility managers' webhook got, once each, in English", () => {
    const fm = got('/fm');
    const mails = smtp.mails.filter((m) => m.to.join() === 'fm@campus.example');
    expect(mails).toHaveLength(fm.length);
    const deliveries = smtp.mails.map((m) => /^X-PeakWatch-Delivery: (\S+)/im.exec(m.raw)![1]);
    expect(new Set(deliveries).size).toBe(smtp.mails.length);
    const silent = mails.filter((m) =>
      subjectOf(m.raw).startsWith('[PeakWatch] firing: A device silent for 15 minutes'),
    );
    expect(silent).toHaveLength(
      fm.filter((r) => r.body.rule.id === 'device-silent' && r.body.state === 'firing').length,
    );
  });

  it("e-mails the district's regulator its notifications in Chinese (the default), as its webhook got them", () => {
    const regulator = got('/haidian');
    const mails = smtp.mails.filter((m) => m.to.join() === 'energy@hd.example.cn');
    expect(mails).toHaveLength(regulator.length);
    expect(regulator.every((r) => r.body.language === 'zh-CN')).toBe(true);
    const pue = mails.map((m) => subjectOf(m.raw)).filter((s) => s.includes('电能利用效率'));
    // fired, then escalated (above), each its own e-mail
    expect(pue.map((s) => /^\[PeakWatch\] ([^：]+)：/.exec(s)?.[1])).toEqual(['告警', '已升级']);
    expect(pue[0]).toMatch(/^\[PeakWatch\] 告警：日电能利用效率（PUE）超过限值（/);
    // and the webhook's title is the Chinese one too
    expect(regulator.find((r) => r.body.rule.id === 'dc-pue-daily-regulator')!.body.rule.title).toBe(
      '日电能利用效率（PUE）超过限值',
    );
  });

  it('escalates an alert left unacknowledged for ALERT_ESCALATE_AFTER_MINUTES, once', () => {
    // b3-lighting is silent for 20 hours: escalated once, 3 hours after it fired; b2-hp1's 45 minutes are not
    const lighting = got('/fm', 'device-silent', 'b3-lighting');
    expect(lighting.map((r) => r.body.state)).toEqual(['firing', 'escalated', 'resolved']);
    expect(Date.parse(lighting[1]!.body.at) - Date.parse(lighting[0]!.body.at)).toBe(3 * HOUR);
    expect(got('/fm', 'device-silent', 'b2-hp1').map((r) => r.body.state)).not.toContain('escalated');
    // a data-quality alert is a reminder to the site, never escalated to a regulator
    expect(got('/haidian', 'device-silent')).toEqual([]);
  });

  it('reports the day whose completeness fell below 90%', () => {
    const low = got('/fm', 'completeness-daily', 'hd-b3');
    expect(low[0]!.body.state).toBe('firing');
    expect(low[0]!.body.window).toEqual({ period: '1d', start: new Date(fromMs).toISOString() });
    expect(low[0]!.body.value).toBeLessThan(0.9);
  });

  it('keeps the state, the history and the outbox in the state store, and publishes on alerts/v1/{district}/{site}', async () => {
    const store = await StateStore.open(config.stateStore);
    expect(store.kind).toBe(testStateStoreKind()); // the run's state store: SQLite, or PostgreSQL in CI's second run
    try {
      const firing = await store.db
        .selectFrom('alert_state')
        .selectAll()
        .where('state', '=', 'firing')
        .execute();
      expect(firing.map((r) => `${r.rule_id} ${r.entity}`)).toEqual(
        expect.arrayContaining(['dc-pue-daily-existing hd-dc1', `${GATED} hd-b3`]),
      );
      const undelivered = await store.db
        .selectFrom('outbox')
        .selectAll()
        .where('delivered_at', 'is', null)
        .execute();
      expect(undelivered).toEqual([]);
    } finally {
      await store.close();
    }
    // the observer was connected to the first process's broker: day 0's alerts (b3's silent meter; the data centre's
    // day 0 is judged once it is over, by the second process)
    expect(alertsOnMqtt).toContain('alerts/v1/haidian/hd-b3');
    expect(alertsOnMqtt).not.toContain('alerts/v1/haidian/hd-dc1');
  });

  it("writes each site's standing against the regulator's rules, which the API ranks the district by", async () => {
    const latest = async (rule: string, site: string): Promise<Record<string, unknown>> =>
      (
        await (
          await influxd.client('alerts')
        ).query(
          `SELECT * FROM standing WHERE rule = '${rule}' AND site = '${site}' ORDER BY time DESC LIMIT 1`,
        )
      )[0]!.rows[0]!;
    const dc = await latest('dc-pue-daily-regulator', 'hd-dc1');
    // the policy's threshold, the day's PUE, and how far over it is worked from them
    // the rule's title in both languages, as the rule file has them (the Chinese dashboards read title_zh)
    expect(dc).toMatchObject({
      district: 'haidian',
      threshold: 1.35,
      title: 'Daily PUE above the limit',
      title_zh: '日电能利用效率（PUE）超过限值',
    });
    expect(typeof dc['value']).toBe('number');
    expect(dc['margin'] as number).toBeCloseTo((dc['value'] as number) / 1.35 - 1, 12);
    expect(dc['completeness'] as number).toBeGreaterThanOrEqual(0.9);
    // a site's facility-manager rules are not the district's standing
    expect(
      (
        await (
          await influxd.client('alerts')
        ).query(`SELECT * FROM standing WHERE rule = 'dc-pue-daily-existing'`)
      ).length,
    ).toBe(0);
    const keys = app.get(ApiKeysRepository);
    const regulator = `Bearer ${(await keys.create({ name: 'standing', role: 'regulator', scope: ['haidian'] })).key}`;
    const standing = (
      await supertest(app.getHttpServer() as Server)
        .get('/api/v1/districts/haidian/standing')
        .set('Authorization', regulator)
        .expect(200)
    ).body as {
      sites: {
        site: string;
        measures: { rule: string; value: number | null; margin: number | null; state: string }[];
      }[];
    };
    const measure = standing.sites
      .find((s) => s.site === 'hd-dc1')!
      .measures.find((m) => m.rule === 'dc-pue-daily-regulator')!;
    // the API and the dashboard show the same judgement
    expect(measure).toMatchObject({ value: dc['value'], state: dc['state'] });
    expect(measure.margin).toBeCloseTo(dc['margin'] as number, 12);
  });

  it('lists, acknowledges and audits alerts through the API, showing a regulator only what is meant for it', async () => {
    const keys = app.get(ApiKeysRepository);
    const bearer = async (role: 'facility_manager' | 'regulator', scope: string): Promise<string> =>
      `Bearer ${(await keys.create({ name: role, role, scope: [scope] })).key}`;
    const http = supertest(app.getHttpServer() as Server);
    const fm = await bearer('facility_manager', 'hd-dc1');
    const regulator = await bearer('regulator', 'haidian');
    const firing = (await http.get('/api/v1/alerts?state=firing').set('Authorization', fm).expect(200))
      .body as {
      rule: string;
      entity: string;
      acknowledged: unknown;
    }[];
    expect(firing.map((a) => a.rule)).toEqual(expect.arrayContaining(['dc-pue-daily-existing']));
    // the regulator sees its policy alerts, never the facility manager's data-quality ones
    const seen = (await http.get('/api/v1/alerts').set('Authorization', regulator).expect(200)).body as {
      rule: string;
    }[];
    expect(new Set(seen.map((a) => a.rule))).toEqual(new Set(['dc-pue-daily-regulator', GATED]));
    await http.post('/api/v1/alerts/dc-pue-daily-existing/hd-dc1/ack').set('Authorization', fm).expect(200);
    await http.post('/api/v1/alerts/dc-pue-daily-existing/hd-b1/ack').set('Authorization', fm).expect(404);
    await http.get('/api/v1/alerts?state=sleeping').set('Authorization', fm).expect(400);
    const history = (
      await http.get('/api/v1/alerts/history?site=hd-dc1').set('Authorization', fm).expect(200)
    ).body as { rule_id: string; event: string }[];
    expect(history.filter((h) => h.rule_id === 'dc-pue-daily-existing').map((h) => h.event)).toEqual(
      expect.arrayContaining(['firing', 'acknowledged']),
    );
    await http
      .get('/api/v1/alerts/history?site=hd-dc1')
      .set('Authorization', await bearer('facility_manager', 'hd-b1'))
      .expect(404);
  });
});
