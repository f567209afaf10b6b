import { request as httpRequest, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import type { ImportPlan } from '@peakwatch/history';
import type { ImportBatch } from '@peakwatch/state';
import supertest from 'supertest';
import { kpiLine } from '@peakwatch/metering';
import { API_APP, ApiKeysRepository, STREAM_KEY_CHECK_MS, type ApiRole } from '@peakwatch/api';
import { deviceTopic } from '@peakwatch/contracts';
import { INGEST_APP } from '@peakwatch/ingest';
import { CredentialsRepository } from '@peakwatch/state';
import { freePort } from '@peakwatch/process';
import { LiveEvents, createApp } from '@peakwatch/runtime';
import { StateStore } from '@peakwatch/state';
import { startInfluxd, type TestInfluxd } from '../support/influxd';
import { testConfig } from '../support/ingest';
import { connectClient } from '../support/mqtt';

const DAY = 86_400_000;
const DAY0 = Date.parse('2026-11-01T00:00:00+08:00');
const RANGE = `from=2026-11-01T00:00:00%2B08:00&to=2026-11-03T00:00:00%2B08:00`;

/** The callers of the matrix: a role and its scope. */
const CALLERS: Record<string, { role: ApiRole; scope: string[] }> = {
  admin: { role: 'admin', scope: [] },
  'fm hd-b1': { role: 'facility_manager', scope: ['hd-b1'] },
  'fm hd-b2': { role: 'facility_manager', scope: ['hd-b2'] },
  'emitter hd-tech-campus': { role: 'emitter', scope: ['hd-tech-campus'] },
  'emitter other-org': { role: 'emitter', scope: ['other-org'] },
  'regulator haidian': { role: 'regulator', scope: ['haidian'] },
  'regulator chaoyang': { role: 'regulator', scope: ['chaoyang'] },
};
type Caller = string;
const ALL_SITES = ['hd-b1', 'hd-b2', 'hd-b3', 'hd-dc1'];

/**
 * The REST API end to end: the real state store (API keys), the real influxd (KPIs), the real broker and ingest (the
 * live stream), over HTTP with supertest.
 */
describe('REST API', () => {
  let influxd: TestInfluxd;
  let app: INestApplication;
  let dataDir: string;
  let http: ReturnType<typeof supertest>;
  const keys = new Map<string, string>();
  let mqttUrl: string;
  let port: number;

  beforeAll(async () => {
    influxd = await startInfluxd();
    dataDir = await mkdtemp(join(tmpdir(), 'peakwatch-api-'));
    const config = await testConfig(influxd.url, 'api', dataDir, {
      API_RATE_LIMIT_PER_MINUTE: '100000',
      IMPORT_MAX_MB: '1',
    });
    app = await createApp(config, [INGEST_APP, API_APP]);
    mqttUrl = `mqtt://127.0.0.1:${config.mqtt.port}`;
    port = config.http.port;
    http = supertest(app.getHttpServer() as Server);
    const repository = app.get(ApiKeysRepository);
    for (const [name, caller] of Object.entries(CALLERS))
      keys.set(name, (await repository.create({ name, ...caller })).key);
    // an admin's key, revoked: it opens nothing
    const revoked = await repository.create({ name: 'revoked', role: 'admin', scope: [] });
    expect(await repository.revoke(revoked.id)).toBe(true);
    keys.set('revoked', revoked.key);
    // KPI values to read back: hd-b1's daily energy, the district's and the city's
    const client = await influxd.client('api');
    const value = (v: number, day: number) => ({
      kpi: 'energy_kwh',
      windowStartMs: DAY0 + day * DAY,
      value: v,
      numerator: v,
      denominator: 1,
      completeness: 1,
      estimated: false,
      estimatedShare: 0,
    });
    const writeApi = client.createWriteApi({ flushInterval: 0, maxRetries: 0 });
    writeApi.writeRecords([
      kpiLine(value(6475.5, 0), { scope: 'site', entity: 'hd-b1', period: '1d' }),
      kpiLine(value(6585.25, 1), { scope: 'site', entity: 'hd-b1', period: '1d' }),
      kpiLine(value(22321, 0), { scope: 'district', entity: 'haidian', period: '1d' }),
      kpiLine(value(22321, 0), { scope: 'city', entity: 'beijing', period: '1d' }),
    ]);
    await writeApi.close();
  });
  afterAll(async () => {
    await app?.close();
    await influxd?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const as = (caller: Caller, test: supertest.Test): supertest.Test =>
    caller === 'none'
      ? test
      : test.set(
          'Authorization',
          `Bearer ${caller === 'bad' ? 'pwk_0123456789abcdef.' + 'x'.repeat(43) : keys.get(caller)}`,
        );

  const kpis = (scope: string, entity: string): string =>
    `/api/v1/kpis?scope=${scope}&entity=${entity}&period=1d&${RANGE}`;

  /**
   * The authorization matrix: every operation of the OpenAPI document (keyed as the document names it), with one or
   * more requests and the status each caller gets, in the order of CALLERS:
   *   admin, fm hd-b1, fm hd-b2, emitter hd-tech-campus, emitter other-org, regulator haidian, regulator chaoyang.
   * Without a key, with an unknown key or with a revoked one every request gets 401, except the public ones (200).
   * Out of scope, a site or organisation is 404 where its existence must not leak, 403 where the role may never act.
   */
  const matrix: Record<
    string,
    { path: string; body?: (caller: Caller) => object; csv?: string; expected: number[]; public?: true }[]
  > = {
    'GET /api/v1': [{ path: '/api/v1', expected: [200, 200, 200, 200, 200, 200, 200], public: true }],
    // probes and the Prometheus scrape (README, "Health and metrics")
    'GET /health': [{ path: '/health', expected: [200, 200, 200, 200, 200, 200, 200], public: true }],
    'GET /health/live': [
      { path: '/health/live', expected: [200, 200, 200, 200, 200, 200, 200], public: true },
    ],
    'GET /metrics': [{ path: '/metrics', expected: [200, 200, 200, 200, 200, 200, 200], public: true }],
    'GET /api/v1/sites': [{ path: '/api/v1/sites', expected: [200, 200, 200, 200, 200, 200, 200] }],
    'GET /api/v1/sites/{siteId}': [
      { path: '/api/v1/sites/hd-b1', expected: [200, 200, 404, 200, 404, 200, 404] },
      { path: '/api/v1/sites/no-such-site', expected: [404, 404, 404, 404, 404, 404, 404] },
    ],
    'GET /api/v1/sites/{siteId}/devices': [
      { path: '/api/v1/sites/hd-b1/devices', expected: [200, 200, 404, 200, 404, 200, 404] },
    ],
    'POST /api/v1/sites/{siteId}/devices': [
      {
        path: '/api/v1/sites/hd-b1/devices',
        // a device of its own for each caller, so that no answer is a conflict with another caller's
        body: (caller) => ({
          id: `b1-matrix-${caller.replace(/[^a-z0-9]+/g, '-')}`,
          kind: 'electricity_meter',
          role: 'special',
        }),
        expected: [201, 201, 404, 403, 403, 403, 403],
      },
    ],
    'POST /api/v1/sites/{siteId}/devices/{deviceId}/secret': [
      { path: '/api/v1/sites/hd-b1/devices/b1-pv/secret', expected: [201, 201, 404, 403, 403, 403, 403] },
      { path: '/api/v1/sites/hd-b1/devices/b9-none/secret', expected: [404, 404, 404, 403, 403, 403, 403] },
    ],
    'DELETE /api/v1/sites/{siteId}/devices/{deviceId}/secret': [
      // a device with no such secret (the real deletion is its own test, so that no order of tests matters)
      { path: '/api/v1/sites/hd-b1/devices/b9-none/secret', expected: [404, 404, 404, 403, 403, 403, 403] },
    ],
    'GET /api/v1/audit': [{ path: '/api/v1/audit', expected: [200, 403, 403, 403, 403, 403, 403] }],
    'GET /api/v1/sites/{siteId}/stream': [
      { path: '/api/v1/sites/hd-b1/stream', expected: [200, 200, 404, 200, 404, 200, 404] },
    ],
    'GET /api/v1/kpis': [
      { path: kpis('site', 'hd-b1'), expected: [200, 200, 404, 200, 404, 200, 404] },
      { path: kpis('district', 'haidian'), expected: [200, 403, 403, 403, 403, 200, 403] },
      { path: kpis('city', 'beijing'), expected: [200, 403, 403, 403, 403, 403, 403] },
    ],
    'GET /api/v1/reports/{org}': [
      { path: '/api/v1/reports/hd-tech-campus', expected: [200, 403, 403, 200, 403, 200, 403] },
      { path: '/api/v1/reports/no-such-org', expected: [404, 403, 403, 404, 404, 404, 404] },
    ],
    'GET /api/v1/reports/{org}/{period}/{version}/{format}': [
      // no report of 2026-10 is generated here (the regenerate row below takes 2026-09, so that the order of the
      // tests cannot matter): past the scope check, the version is not found
      {
        path: '/api/v1/reports/hd-tech-campus/2026-10/1/json',
        expected: [404, 403, 403, 404, 403, 404, 403],
      },
    ],
    'PUT /api/v1/reports/{org}/{period}/inputs': [
      {
        path: '/api/v1/reports/hd-tech-campus/2026-08/inputs',
        body: () => ({}),
        expected: [200, 403, 403, 200, 403, 403, 403],
      },
    ],
    'PUT /api/v1/reports/{org}/{year}/allowance': [
      {
        path: '/api/v1/reports/hd-tech-campus/2027/allowance',
        body: () => ({ allowanceT: 10 }),
        expected: [200, 403, 403, 200, 403, 403, 403],
      },
    ],
    'GET /api/v1/reports/{org}/{year}/position': [
      {
        path: '/api/v1/reports/hd-tech-campus/2026/position',
        expected: [200, 403, 403, 200, 403, 200, 403],
      },
    ],
    'POST /api/v1/reports/{org}/{period}/regenerate': [
      {
        path: '/api/v1/reports/hd-tech-campus/2026-09/regenerate',
        expected: [200, 403, 403, 200, 403, 403, 403],
      },
    ],
    'GET /api/v1/alerts': [{ path: '/api/v1/alerts', expected: [200, 200, 200, 200, 200, 200, 200] }],
    'GET /api/v1/alerts/history': [
      { path: '/api/v1/alerts/history?site=hd-b1', expected: [200, 200, 404, 200, 404, 200, 404] },
    ],
    // every role may list the incidents it can see (none here)
    'GET /api/v1/incidents': [{ path: '/api/v1/incidents', expected: [200, 200, 200, 200, 200, 200, 200] }],
    'POST /api/v1/alerts/{ruleId}/{entity}/ack': [
      // nothing is firing here: past the role check, the alert is not found
      { path: '/api/v1/alerts/device-silent/b1-pv/ack', expected: [404, 404, 404, 403, 403, 404, 404] },
    ],
    // a history import's dry run writes nothing; out of scope, its rows are refused (the import tests below)
    'POST /api/v1/imports': [
      {
        path: '/api/v1/imports?reason=matrix',
        csv: `site,device,ts,metric,value\nhd-b1,b1-grid,2024-05-01T00:00:00+08:00,energy_import_kwh,1\n`,
        expected: [200, 200, 200, 200, 200, 403, 403],
      },
    ],
    'GET /api/v1/imports': [{ path: '/api/v1/imports', expected: [200, 200, 200, 200, 200, 403, 403] }],
    'GET /api/v1/imports/{id}': [
      { path: '/api/v1/imports/imp-20260101-00000000', expected: [404, 404, 404, 404, 404, 403, 403] },
    ],
    'GET /api/v1/imports/{id}/rejections': [
      {
        path: '/api/v1/imports/imp-20260101-00000000/rejections',
        expected: [404, 404, 404, 404, 404, 403, 403],
      },
    ],
    'POST /api/v1/imports/{id}/rollback': [
      {
        path: '/api/v1/imports/imp-20260101-00000000/rollback',
        expected: [404, 404, 404, 404, 404, 403, 403],
      },
    ],
    // demand-response events: an event of its own for each caller (a different day of 2099), so that none overlaps
    // another caller's; a regulator of another district does not get to name hd-b1 (400 on the field, as unknown)
    'POST /api/v1/dr-events': [
      {
        path: '/api/v1/dr-events',
        body: (caller) => {
          const day = String(1 + Object.keys(CALLERS).indexOf(caller) + 1).padStart(2, '0');
          return {
            sites: ['hd-b1'],
            startsAt: `2099-01-${day}T14:00:00+08:00`,
            endsAt: `2099-01-${day}T15:00:00+08:00`,
            requestedKw: 50,
            reason: 'matrix',
          };
        },
        expected: [201, 403, 403, 403, 403, 201, 400],
      },
    ],
    'GET /api/v1/dr-events': [{ path: '/api/v1/dr-events', expected: [200, 200, 200, 200, 200, 200, 200] }],
    'GET /api/v1/dr-events/capability': [
      {
        path: '/api/v1/dr-events/capability?district=haidian&year=2026',
        expected: [200, 403, 403, 403, 403, 200, 404],
      },
    ],
    'GET /api/v1/dr-events/{eventId}': [
      {
        path: '/api/v1/dr-events/dr-00000000-0000-4000-8000-000000000000',
        expected: [404, 404, 404, 404, 404, 404, 404],
      },
    ],
    'GET /api/v1/districts/{district}/standing': [
      { path: '/api/v1/districts/haidian/standing', expected: [200, 403, 403, 403, 403, 200, 404] },
      {
        path: '/api/v1/districts/haidian/standing?format=csv',
        expected: [200, 403, 403, 403, 403, 200, 404],
      },
      { path: '/api/v1/districts/nowhere/standing', expected: [404, 403, 403, 403, 403, 404, 404] },
    ],
    'GET /api/v1/apikeys': [{ path: '/api/v1/apikeys', expected: [200, 403, 403, 403, 403, 403, 403] }],
    'POST /api/v1/apikeys': [
      {
        path: '/api/v1/apikeys',
        body: () => ({ name: 'matrix', role: 'regulator', scope: ['haidian'] }),
        expected: [201, 403, 403, 403, 403, 403, 403],
      },
    ],
    'DELETE /api/v1/apikeys/{keyId}': [
      { path: '/api/v1/apikeys/0000000000000000', expected: [404, 403, 403, 403, 403, 403, 403] },
    ],
  };
  const cases = Object.entries(matrix).flatMap(([operation, rows]) =>
    rows.flatMap(({ path, body, csv, expected, public: open }) => {
      const method = operation.split(' ')[0]!;
      const send = csv === undefined ? body : () => csv;
      return [
        ...Object.keys(CALLERS).map((caller, i) => [method, path, caller, expected[i]!, send] as const),
        ...['none', 'bad', 'revoked'].map(
          (caller) => [method, path, caller, open ? 200 : 401, send] as const,
        ),
      ];
    }),
  );

  it('has a row for every operation of the OpenAPI document, and a status for every caller', async () => {
    const document = (await http.get('/docs-json').expect(200)).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(Object.keys(matrix).sort()).toEqual(operations.sort());
    for (const rows of Object.values(matrix))
      for (const row of rows) expect(row.expected).toHaveLength(Object.keys(CALLERS).length);
  });

  /** The status of a request; a stream's headers are enough (the connection is closed at once). */
  const statusOf = (
    method: string,
    path: string,
    caller: Caller,
    body?: (caller: Caller) => object | string,
  ): Promise<number> => {
    if (path.endsWith('/stream'))
      return new Promise((resolve, reject) => {
        const req = httpRequest(
          {
            port,
            path,
            method,
            headers:
              caller === 'none'
                ? {}
                : { authorization: `Bearer ${caller === 'bad' ? 'pwk_x' : keys.get(caller)}` },
          },
          (res) => {
            resolve(res.statusCode!);
            req.destroy();
          },
        );
        req.on('error', reject);
        req.end();
      });
    const t = http[method.toLowerCase() as 'get' | 'post' | 'put' | 'delete'](path);
    const sent = body?.(caller);
    // a string is a history import's file (CSV)
    return as(
      caller,
      sent === undefined ? t : typeof sent === 'string' ? t.type('text/csv').send(sent) : t.send(sent),
    ).then((r) => r.status);
  };

  it.each(cases)('%s %s as %s → %i', async (method, path, caller, status, body) => {
    expect(await statusOf(method, path, caller, body)).toBe(status);
  });

  it("lists only the sites in the caller's scope", async () => {
    const ids = async (caller: Caller): Promise<string[]> =>
      ((await as(caller, http.get('/api/v1/sites')).expect(200)).body as { id: string }[])
        .map((s) => s.id)
        .sort();
    expect(await ids('admin')).toEqual(ALL_SITES);
    expect(await ids('fm hd-b1')).toEqual(['hd-b1']);
    expect(await ids('emitter hd-tech-campus')).toEqual(ALL_SITES); // the sample campus belongs to one organisation
    expect(await ids('emitter other-org')).toEqual([]);
    expect(await ids('regulator haidian')).toEqual(ALL_SITES);
    expect(await ids('regulator chaoyang')).toEqual([]);
  });

  describe("a regulator's district standing", () => {
    const SINCE = '2026-11-02T02:00:00.000Z';
    let json: {
      district: string;
      sites: {
        site: string;
        worstMargin: number | null;
        measures: {
          rule: string;
          value: number | null;
          margin: number | null;
          completeness: number | null;
          state: string;
        }[];
        openAlerts: { rule: string; state: string }[];
      }[];
    };
    let csv: string;
    let badFormat: supertest.Response;
    beforeAll(async () => {
      // what the alert evaluator last judged: hd-dc1's rolling PUE 1.365 against the new data centres' 1.3, firing;
      // hd-b1's quota use 110 % against the audit threshold of 120 %; hd-b2's 150 %, held by too few readings (30 %)
      const row = (rule: string, site: string, state: string, value: number) => ({
        rule_id: rule,
        entity: site,
        site_id: site,
        state,
        since: SINCE,
        episode: 1,
        value,
        acked_at: null,
        acked_by: null,
        escalated_at: null,
      });
      await app
        .get(StateStore)
        .db.insertInto('alert_state')
        .values([
          row('dc-pue-rolling-new', 'hd-dc1', 'firing', 1.365),
          row('dc-pue-rolling-new.data-quality', 'hd-dc1', 'resolved', 0.97),
          row('building-quota-audit', 'hd-b1', 'inactive', 1.1),
          row('building-quota-audit.data-quality', 'hd-b1', 'inactive', 0.95),
          row('building-quota-audit', 'hd-b2', 'inactive', 1.5),
          row('building-quota-audit.data-quality', 'hd-b2', 'firing', 0.3),
        ])
        .execute();
      json = (await as('regulator haidian', http.get('/api/v1/districts/haidian/standing')).expect(200))
        .body as typeof json;
      const response = await as(
        'regulator haidian',
        http.get('/api/v1/districts/haidian/standing?format=csv'),
      ).expect(200);
      expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
      csv = response.text;
      badFormat = await as('admin', http.get('/api/v1/districts/haidian/standing?format=pdf'));
    });

    it('ranks the sites by how far over their thresholds they are, with completeness and open alerts', () => {
      expect(json.district).toBe('haidian');
      expect(json.sites.map((s) => s.site)).toEqual(['hd-dc1', 'hd-b1', 'hd-b2', 'hd-b3']);
      const [dc1, b1, b2] = json.sites;
      // 1.365 / 1.3 − 1 = 0.05; 1.1 / 1.2 − 1 = −1/12
      expect(dc1!.worstMargin).toBeCloseTo(0.05, 12);
      expect(dc1!.measures.find((m) => m.rule === 'dc-pue-rolling-new')).toMatchObject({
        value: 1.365,
        completeness: 0.97,
        state: 'firing',
      });
      expect(dc1!.openAlerts).toEqual([
        expect.objectContaining({ rule: 'dc-pue-rolling-new', state: 'firing' }),
      ]);
      expect(b1!.worstMargin).toBeCloseTo(-1 / 12, 12);
      // too few readings to judge: no value, and no margin made of it
      expect(b2!.measures.find((m) => m.rule === 'building-quota-audit')).toMatchObject({
        value: null,
        margin: null,
        completeness: 0.3,
      });
      expect(b2!.worstMargin).toBeNull();
      // only the thresholds regulators are told of: never a data-quality rule, never a facility manager's own
      const rules = json.sites.flatMap((s) => s.measures.map((m) => m.rule));
      expect(rules.some((r) => r.endsWith('.data-quality') || r.startsWith('dc-pue-daily'))).toBe(false);
    });

    it('gives the same as CSV, one row per site and measure, and 400 for a format it does not know', () => {
      const lines = csv.trimEnd().split('\n');
      expect(lines[0]).toBe(
        'site,name,rule,kpi,period,value,comparison,threshold,margin,completeness,state,since',
      );
      expect(lines).toHaveLength(1 + json.sites.reduce((n, s) => n + s.measures.length, 0));
      expect(lines[1]).toMatch(
        new RegExp(
          `^"hd-dc1","[^"]+","dc-pue-rolling-new","pue","rolling_12mo",1.365,"above",1.3,${String(1.365 / 1.3 - 1)},0.97,"firing",`,
        ),
      );
      expect(badFormat.status).toBe(400);
      expect(JSON.stringify(badFormat.body)).toContain('format');
    });
  });

  it('reads plain dates as midnight in the reporting zone: 1 and 2 November in Beijing, as the kpi command does', async () => {
    const plain = `/api/v1/kpis?scope=site&entity=hd-b1&period=1d&kpi=energy_kwh&from=2026-11-01&to=2026-11-03`;
    const response = await as('fm hd-b1', http.get(plain)).expect(200);
    expect(
      (response.body as { windowStart: string; value: number }[]).map((k) => [k.windowStart, k.value]),
    ).toEqual([
      ['2026-10-31T16:00:00.000Z', 6475.5],
      ['2026-11-01T16:00:00.000Z', 6585.25],
    ]);
  });

  it('returns the KPI values of the kpi series', async () => {
    const response = await as('fm hd-b1', http.get(`${kpis('site', 'hd-b1')}&kpi=energy_kwh`)).expect(200);
    expect(response.body).toEqual([
      {
        windowStart: '2026-10-31T16:00:00.000Z',
        kpi: 'energy_kwh',
        value: 6475.5,
        numerator: 6475.5,
        denominator: 1,
        completeness: 1,
        estimated: false,
        estimatedShare: 0,
      },
      {
        windowStart: '2026-11-01T16:00:00.000Z',
        kpi: 'energy_kwh',
        value: 6585.25,
        numerator: 6585.25,
        denominator: 1,
        completeness: 1,
        estimated: false,
        estimatedShare: 0,
      },
    ]);
  });

  it.each<[string, string, string]>([
    ['an unknown period', `/api/v1/kpis?entity=hd-b1&period=2d&${RANGE}`, 'period'],
    ['an unparseable date', '/api/v1/kpis?entity=hd-b1&period=1d&from=yesterday&to=2026-11-03', 'from'],
    [
      'a time without its offset',
      '/api/v1/kpis?entity=hd-b1&period=1d&from=2026-11-01T00:00:00&to=2026-11-03',
      'from',
    ],
    ['a day that does not exist', '/api/v1/kpis?entity=hd-b1&period=1d&from=2026-11-01&to=2026-11-31', 'to'],
    ['an inverted range', '/api/v1/kpis?entity=hd-b1&period=1d&from=2026-11-03&to=2026-11-01', 'to'],
    ['a range over 400 days', '/api/v1/kpis?entity=hd-b1&period=1d&from=2024-01-01&to=2026-11-01', 'to'],
    ['the year 1000', '/api/v1/kpis?entity=hd-b1&period=1d&from=1000-01-01&to=1000-01-02', 'from'],
    ['the year 2200', '/api/v1/kpis?entity=hd-b1&period=1d&from=2026-11-01&to=2200-01-01', 'to'],
    ['a missing entity', `/api/v1/kpis?period=1d&${RANGE}`, 'entity'],
    ['an unknown parameter', `/api/v1/kpis?entity=hd-b1&period=1d&${RANGE}&colour=red`, 'colour'],
    ['a bad scope', `/api/v1/kpis?scope=planet&entity=hd-b1&period=1d&${RANGE}`, 'scope'],
  ])('refuses %s with a 400 naming the field', async (_name, path, field) => {
    const response = await as('admin', http.get(path)).expect(400);
    expect(response.body).toMatchObject({ statusCode: 400, field });
  });

  it.each<[string, object, string]>([
    ['an unknown role', { name: 'x', role: 'root', scope: [] }, 'role'],
    [
      'a regulator of two districts',
      { name: 'x', role: 'regulator', scope: ['haidian', 'chaoyang'] },
      'scope',
    ],
    ['an admin with a scope', { name: 'x', role: 'admin', scope: ['haidian'] }, 'scope'],
    ['a missing name', { role: 'regulator', scope: ['haidian'] }, 'name'],
  ])('refuses an API key with %s (400 naming the field)', async (_name, body, field) => {
    const response = await as('admin', http.post('/api/v1/apikeys').send(body)).expect(400);
    expect(response.body).toMatchObject({ field });
  });

  describe('history imports', () => {
    type ImportAnswer = { plan: ImportPlan; batchId?: string };
    const CSV = [
      'site,device,ts,metric,value',
      'hd-b1,b1-pv,2024-06-01T00:00:00+08:00,energy_export_kwh,100',
      'hd-b1,b1-pv,2024-06-01T01:00:00+08:00,energy_export_kwh,250',
      'hd-b2,b2-grid,2024-06-01T01:00:00+08:00,energy_import_kwh,9',
    ].join('\n');
    const post = (caller: Caller, query: string, body = CSV): supertest.Test =>
      as(caller, http.post(`/api/v1/imports?${query}`).type('text/csv').send(body));

    it("refuses a facility manager's rows of another site, and writes only with apply and a confirmed partial", async () => {
      const dry = (await post('fm hd-b1', 'reason=pv%20history').expect(200)).body as ImportAnswer;
      expect(dry.plan.rejections).toEqual([
        expect.objectContaining({ row: 4, field: 'site', reason: 'site_not_allowed' }),
      ]);
      expect(dry.batchId).toBeUndefined();
      const refused = await post('fm hd-b1', 'reason=pv%20history&apply=true').expect(400);
      expect(refused.body).toMatchObject({ code: 'import_refused', field: 'file' });
      expect((await as('admin', http.get('/api/v1/imports')).expect(200)).body).toEqual([]);

      const applied = await post(
        'fm hd-b1',
        'reason=pv%20history&apply=true&partial=true&fileName=pv-2024.csv',
      ).expect(201);
      const id = (applied.body as ImportAnswer).batchId!;
      expect(id).toMatch(/^imp-\d{8}-[0-9a-f]{8}$/);
      const batch = (await as('fm hd-b1', http.get(`/api/v1/imports/${id}`)).expect(200)).body as ImportBatch;
      expect(batch).toMatchObject({
        fileName: 'pv-2024.csv',
        reason: 'pv history',
        rowsAccepted: 2,
        rowsRejected: 1,
      });
      expect(batch.actor).not.toContain('pwk_'); // the key id, never the key
      // another site's key learns nothing of the batch, not even that it exists
      await as('fm hd-b2', http.get(`/api/v1/imports/${id}`)).expect(404);
      await as('fm hd-b2', http.get(`/api/v1/imports/${id}/rejections`)).expect(404);
      expect((await as('fm hd-b2', http.get('/api/v1/imports')).expect(200)).body).toEqual([]);
      const csv = await as('fm hd-b1', http.get(`/api/v1/imports/${id}/rejections`)).expect(200);
      expect(csv.headers['content-type']).toMatch(/^text\/csv/);
      expect(csv.text).toBe(
        'row,field,reason,detail\n4,"site","site_not_allowed","hd-b2 is not a site of yours"\n',
      );

      await as('fm hd-b2', http.post(`/api/v1/imports/${id}/rollback`)).expect(404);
      // an emitter of the campus sees the batch but not the refused rows of the facility manager's file
      await as('emitter hd-tech-campus', http.get(`/api/v1/imports/${id}`)).expect(200);
      await as('emitter hd-tech-campus', http.get(`/api/v1/imports/${id}/rejections`)).expect(403);
      const rolled = await as('fm hd-b1', http.post(`/api/v1/imports/${id}/rollback`)).expect(200);
      expect((rolled.body as { batch: ImportBatch }).batch.state).toBe('rolled_back');
      await as('fm hd-b1', http.post(`/api/v1/imports/${id}/rollback`)).expect(400);
    });

    it.each<[string, string, string, number, string]>([
      ['no reason', '', 'text/csv', 400, 'reason'],
      ['an unknown parameter', 'reason=x&colour=red', 'text/csv', 400, 'colour'],
      ['a file name with a path', 'reason=x&fileName=../x.csv', 'text/csv', 400, 'fileName'],
      ['a bad zone', 'reason=x&tz=Mars/Olympus', 'text/csv', 400, 'tz'],
    ])('refuses %s with a 400 naming the field', async (_name, query, type, status, field) => {
      const response = await as('admin', http.post(`/api/v1/imports?${query}`).type(type).send(CSV)).expect(
        status,
      );
      expect(response.body).toMatchObject({ field });
    });

    it('refuses a JSON body (415), a header it cannot read (400 naming the header), a file over IMPORT_MAX_MB (413)', async () => {
      await as('admin', http.post('/api/v1/imports?reason=x').send({ rows: [] })).expect(415);
      const header = await post('admin', 'reason=x', 'site,device,when,metric,value\n').expect(400);
      expect(header.body).toMatchObject({ code: 'invalid_import_file', field: 'header' });
      await post('admin', 'reason=x', `${CSV}\n${'#'.repeat(2 * 1_048_576)}`).expect(413);
    });
  });

  it('refuses a request body over 64 kB with 413', async () => {
    const body = { name: 'x'.repeat(70_000), role: 'admin', scope: [] };
    await as('admin', http.post('/api/v1/apikeys').send(body)).expect(413);
  });

  it("logs a failed request without the caller's credentials (InfluxDB unreachable: a 500)", async () => {
    const lines: string[] = [];
    const deadDataDir = await mkdtemp(join(tmpdir(), 'peakwatch-api-dead-'));
    const dead = await createApp(
      await testConfig(`http://127.0.0.1:${await freePort()}`, 'api', deadDataDir, { LOG_LEVEL: 'info' }),
      [API_APP],
      { log: { write: (line: string) => lines.push(line) } },
    );
    try {
      const { key } = await dead.get(ApiKeysRepository).create({ name: 'logged', role: 'admin', scope: [] });
      const cookie = 'session=Cookie-secret-value';
      await supertest(dead.getHttpServer() as Server)
        .get(kpis('site', 'hd-b1'))
        .set('Authorization', `Bearer ${key}`)
        .set('Cookie', cookie)
        .expect(500);
      const log = lines.join('');
      // the failure is logged, with the request it belongs to, and its credentials redacted
      expect(log).toContain('/api/v1/kpis');
      expect(log).toContain('"authorization":"[redacted]"');
      expect(log).not.toContain(key);
      expect(log).not.toContain(key.split('.')[1]!); // nor the secret part alone
      expect(log).not.toContain('Cookie-secret-value');
    } finally {
      await dead.close();
      await rm(deadDataDir, { recursive: true, force: true });
    }
  });

  it('throttles wrong secrets per key and address (429, without verifying), and keeps serving the keys it knows', async () => {
    const floodDataDir = await mkdtemp(join(tmpdir(), 'peakwatch-api-flood-'));
    const flooded = await createApp(await testConfig(influxd.url, 'api', floodDataDir), [API_APP]);
    try {
      const repository = flooded.get(ApiKeysRepository);
      const target = await repository.create({ name: 'target', role: 'admin', scope: [] });
      const known = await repository.create({ name: 'known', role: 'admin', scope: [] });
      const server = supertest(flooded.getHttpServer() as Server);
      const get = (key: string) => server.get('/api/v1/sites').set('Authorization', `Bearer ${key}`);
      await get(known.key).expect(200);
      // the target key's id with guessed secrets: 10 wrong answers (each verified), then 429 at once
      const guess = (i: number) => `${target.key.slice(0, 21)}${String(i).padStart(43, 'x')}`;
      const statuses: number[] = [];
      for (let i = 0; i < 15; i++) statuses.push((await get(guess(i))).status);
      expect(statuses).toEqual([...Array<number>(10).fill(401), ...Array<number>(5).fill(429)]);
      const throttled = await get(guess(99)).expect(429);
      expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);
      // a key it knows is served as before
      await get(known.key).expect(200);
    } finally {
      await flooded.close();
      await rm(floodDataDir, { recursive: true, force: true });
    }
  });

  it("deletes a device's MQTT secret, and the audit log tells who issued and deleted it", async () => {
    const { secret } = (
      await as('fm hd-b1', http.post('/api/v1/sites/hd-b1/devices/b1-hvac/secret')).expect(201)
    ).body as { secret: string };
    (await connectClient(mqttUrl, { username: 'b1-hvac', password: secret })).end(true);
    await as('fm hd-b1', http.delete('/api/v1/sites/hd-b1/devices/b1-hvac/secret')).expect(204);
    await expect(connectClient(mqttUrl, { username: 'b1-hvac', password: secret })).rejects.toThrow(
      /Not authorized|Bad username or password/,
    );
    // deleted once: a second deletion finds nothing
    await as('fm hd-b1', http.delete('/api/v1/sites/hd-b1/devices/b1-hvac/secret')).expect(404);
    const fmKeyId = keys.get('fm hd-b1')!.slice(4, 20);
    const audit = (await as('admin', http.get('/api/v1/audit')).expect(200)).body as {
      actor: string;
      role: string;
      action: string;
      target: string;
    }[];
    const mine = audit.filter((e) => e.target === 'hd-b1/b1-hvac');
    expect(mine.map((e) => [e.action, e.actor, e.role])).toEqual([
      ['device.secret.delete', fmKeyId, 'facility_manager'],
      ['device.secret.issue', fmKeyId, 'facility_manager'],
    ]);
    expect(JSON.stringify(audit)).not.toContain(secret);
  });

  it('serves /metrics only on its own listener when METRICS_PORT is set, not on the public address', async () => {
    const metricsDataDir = await mkdtemp(join(tmpdir(), 'peakwatch-api-metrics-'));
    const metricsPort = await freePort();
    const separate = await createApp(
      await testConfig(influxd.url, 'api', metricsDataDir, { METRICS_PORT: String(metricsPort) }),
      [INGEST_APP, API_APP],
    );
    try {
      await supertest(separate.getHttpServer() as Server)
        .get('/metrics')
        .expect(404);
      const scraped = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toMatch(/^peakwatch_ingest_rejected_total\{reason="bad_topic"\} 0$/m);
      expect((await fetch(`http://127.0.0.1:${metricsPort}/api/v1/sites`)).status).toBe(404);
    } finally {
      await separate.close();
      await rm(metricsDataDir, { recursive: true, force: true });
    }
    // and the listener is gone with the app
    await expect(fetch(`http://127.0.0.1:${metricsPort}/metrics`)).rejects.toThrow();
  });

  it('revokes a key at once', async () => {
    const created = await as(
      'admin',
      http.post('/api/v1/apikeys').send({ name: 'temp', role: 'regulator', scope: ['haidian'] }),
    ).expect(201);
    const { id, key } = created.body as { id: string; key: string };
    await http.get('/api/v1/sites').set('Authorization', `Bearer ${key}`).expect(200);
    expect(
      ((await as('admin', http.get('/api/v1/apikeys'))).body as { id: string }[]).map((k) => k.id),
    ).toContain(id);
    await as('admin', http.delete(`/api/v1/apikeys/${id}`)).expect(204);
    await http.get('/api/v1/sites').set('Authorization', `Bearer ${key}`).expect(401);
  });

  it('streams a reading the device publishes, to a caller of its site', async () => {
    // the facility manager provisions the meter's secret through the API, and the meter publishes with it
    const { secret } = (
      await as('fm hd-b1', http.post('/api/v1/sites/hd-b1/devices/b1-grid/secret')).expect(201)
    ).body as { secret: string };
    const received: string[] = [];
    const stream = httpRequest({
      port,
      path: '/api/v1/sites/hd-b1/stream',
      headers: { authorization: `Bearer ${keys.get('fm hd-b1')}` },
    });
    const opened = new Promise<void>((resolve) =>
      stream.on('response', (res) => {
        expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
        res.on('data', (chunk: Buffer) => received.push(chunk.toString('utf8')));
        resolve();
      }),
    );
    stream.end();
    await opened;
    const meter = await connectClient(mqttUrl, { username: 'b1-grid', password: secret });
    const ts = Date.now() - 60_000;
    // a batch of a good reading and a refused one: only what is stored is streamed
    await meter.publishAsync(
      deviceTopic('hd-b1', 'b1-grid', 'telemetry'),
      JSON.stringify([
        { ts, seq: 7, values: { energy_import_kwh: 1234.5, power_kw: 42 } },
        { ts: ts + 1, seq: 8, values: { power_kw: 'forged' } },
      ]),
      { qos: 1 },
    );
    await meter.endAsync();
    for (let i = 0; i < 100 && !/^event: reading$/m.test(received.join('')); i++)
      await new Promise((r) => setTimeout(r, 50));
    stream.destroy();
    const [ready = '', event = ''] = received
      .join('')
      .split('\n\n')
      .filter((e) => /^event: /m.test(e));
    // first the stream's own event, at once, then the reading
    expect(ready).toMatch(/^event: ready$/m);
    const hello = JSON.parse(/^data: (.*)$/m.exec(ready)![1]!) as { siteId: string; at: string };
    expect(hello.siteId).toBe('hd-b1');
    expect(Date.parse(hello.at)).toBeGreaterThan(Date.now() - 60_000);
    expect(event).toMatch(/^event: reading$/m);
    const data = JSON.parse(/^data: (.*)$/m.exec(event)![1]!) as unknown;
    expect(data).toEqual({
      deviceId: 'b1-grid',
      readings: [{ ts, seq: 7, values: { energy_import_kwh: 1234.5, power_kw: 42 } }],
    });
  });

  it('creates a device at a site, whose secret then works and whose readings are stored', async () => {
    const created = await as('fm hd-b1', http.post('/api/v1/sites/hd-b1/devices'))
      .send({
        id: 'b1-lift',
        kind: 'electricity_meter',
        role: 'special',
        ratedPowerKw: 80,
      })
      .expect(201);
    const { device, secret } = created.body as { device: { id: string }; secret: string };
    expect(device.id).toBe('b1-lift');
    const devices = (await as('fm hd-b1', http.get('/api/v1/sites/hd-b1/devices')).expect(200)).body as {
      id: string;
    }[];
    expect(devices.map((d) => d.id)).toContain('b1-lift');
    const meter = await connectClient(mqttUrl, { username: 'b1-lift', password: secret });
    const ts = Date.now() - 120_000;
    await meter.publishAsync(
      deviceTopic('hd-b1', 'b1-lift', 'telemetry'),
      JSON.stringify({ ts, values: { energy_import_kwh: 12.5 } }),
      { qos: 1 },
    );
    await meter.endAsync();
    const client = await influxd.client('api');
    for (
      let i = 0;
      i < 100 && (await client.query(`SELECT * FROM telemetry WHERE device = 'b1-lift'`)).length === 0;
      i++
    )
      await new Promise((r) => setTimeout(r, 50));
    const [stored] = await client.query(
      `SELECT energy_import_kwh, role, site FROM telemetry WHERE device = 'b1-lift'`,
    );
    expect(stored?.rows).toEqual([{ time: ts, energy_import_kwh: 12.5, role: 'special', site: 'hd-b1' }]);
    // the same id again, a bad kind, another site's manager
    await as('fm hd-b1', http.post('/api/v1/sites/hd-b1/devices'))
      .send({ id: 'b1-lift', kind: 'electricity_meter', role: 'special' })
      .expect(409);
    const bad = await as('fm hd-b1', http.post('/api/v1/sites/hd-b1/devices'))
      .send({ id: 'b1-x', kind: 'toaster', role: 'special' })
      .expect(400);
    expect(bad.body).toMatchObject({ field: 'kind' });
    await as('fm hd-b2', http.post('/api/v1/sites/hd-b1/devices'))
      .send({ id: 'b1-y', kind: 'electricity_meter', role: 'special' })
      .expect(404);
    await as('regulator haidian', http.post('/api/v1/sites/hd-b1/devices'))
      .send({ id: 'b1-z', kind: 'electricity_meter', role: 'special' })
      .expect(403);
  });

  it('has no EMQX hook unless BROKER_HOOK_TOKEN is set: not even an admin key reaches it', async () => {
    for (const path of ['authenticate', 'authorize'])
      await as('admin', http.post(`/api/v1/broker/emqx/${path}`))
        .set('X-PeakWatch-Hook-Token', '')
        .send({ username: 'b1-power', password: 'x', topic: '#', action: 'subscribe' })
        .expect(404);
  });

  it("keeps devices out of the names of PeakWatch's own MQTT clients and of other service clients", async () => {
    // the alerts service's MQTT user: a device of that name would break alert delivery and gain its rights
    const reserved = await as('admin', http.post('/api/v1/sites/hd-b1/devices'))
      .send({ id: 'peakwatch-alerts', kind: 'electricity_meter', role: 'special' })
      .expect(400);
    expect(reserved.body).toMatchObject({ field: 'id' });
    // a service client's username (a gateway's): a device may not take it, nor rotate its secret
    await app.get(CredentialsRepository).issue('b1-gateway', 'service', null);
    await as('admin', http.post('/api/v1/sites/hd-b1/devices'))
      .send({ id: 'b1-gateway', kind: 'electricity_meter', role: 'special' })
      .expect(409);
    expect((await as('admin', http.get('/api/v1/sites/hd-b1/devices'))).body).not.toContainEqual(
      expect.objectContaining({ id: 'b1-gateway' }),
    );
  });

  it("shows a regulator's stream only its audience's alerts, and ends a stream when its key is revoked", async () => {
    const open = (key: string) => {
      const received: string[] = [];
      const request = httpRequest({
        port,
        path: '/api/v1/sites/hd-b1/stream',
        headers: { authorization: `Bearer ${key}` },
      });
      const ended = new Promise<void>((resolve) =>
        request.on('response', (res) => {
          res.on('data', (chunk: Buffer) => received.push(chunk.toString('utf8')));
          res.on('end', () => resolve());
          res.on('close', () => resolve());
        }),
      );
      request.end();
      return { received, ended, request };
    };
    const newKey = async () =>
      (
        await as(
          'admin',
          http.post('/api/v1/apikeys').send({ name: 'viewer', role: 'regulator', scope: ['haidian'] }),
        )
      ).body as { id: string; key: string };
    const first = await newKey();
    const viewer = open(first.key);
    await new Promise((r) => setTimeout(r, 200));
    // what the alerts app emits in this process: a data-quality alert (facility managers only), a policy one
    const live = app.get(LiveEvents);
    // and an incident of data-quality alerts (docs/incidents.md): a regulator sees none
    live.emit({
      type: 'incident',
      siteId: 'hd-b1',
      data: { incident: { id: 'incident-of-gw-b1' }, members: [{ rule: { id: 'device-silent' } }] },
    });
    for (const rule of ['device-silent', 'dc-pue-rolling-existing'])
      live.emit({ type: 'alert', siteId: 'hd-b1', data: { rule: { id: rule }, state: 'firing' } });
    for (let i = 0; i < 100 && !viewer.received.join('').includes('dc-pue-rolling-existing'); i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(viewer.received.join('')).toContain('dc-pue-rolling-existing');
    expect(viewer.received.join('')).not.toContain('device-silent');
    expect(viewer.received.join('')).not.toContain('incident-of-gw-b1');
    // revoked through the API: the stream ends at once
    await as('admin', http.delete(`/api/v1/apikeys/${first.id}`)).expect(204);
    await viewer.ended;
    // revoked by another process (the command line, another replica): the stream ends at its next check
    const second = await newKey();
    const other = open(second.key);
    await new Promise((r) => setTimeout(r, 200));
    await app
      .get(StateStore)
      .db.updateTable('api_key')
      .set({ revoked_at: new Date().toISOString() })
      .where('id', '=', second.id)
      .execute();
    const ended = await Promise.race([
      other.ended.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), STREAM_KEY_CHECK_MS + 5_000)),
    ]);
    other.request.destroy();
    expect(ended).toBe(true);
  });

  it('publishes its OpenAPI document at /docs-json and the UI at /docs', async () => {
    const doc = (await http.get('/docs-json').expect(200)).body as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/sites',
        '/api/v1/sites/{siteId}',
        '/api/v1/kpis',
        '/api/v1/apikeys',
        '/api/v1/sites/{siteId}/stream',
      ]),
    );
    expect((await http.get('/docs').expect(200)).text).toContain('swagger');
  });
});

describe('REST API rate limit', () => {
  it('answers 429 with Retry-After beyond API_RATE_LIMIT_PER_MINUTE requests of one key', async () => {
    const influxd = await startInfluxd();
    const dataDir = await mkdtemp(join(tmpdir(), 'peakwatch-api-limit-'));
    const app = await createApp(
      await testConfig(influxd.url, 'limit', dataDir, { API_RATE_LIMIT_PER_MINUTE: '3' }),
      [API_APP],
    );
    try {
      const { key } = await app.get(ApiKeysRepository).create({ name: 'limited', role: 'admin', scope: [] });
      const other = (await app.get(ApiKeysRepository).create({ name: 'other', role: 'admin', scope: [] }))
        .key;
      const http = supertest(app.getHttpServer() as Server);
      for (let i = 0; i < 3; i++)
        await http.get('/api/v1/sites').set('Authorization', `Bearer ${key}`).expect(200);
      const limited = await http.get('/api/v1/sites').set('Authorization', `Bearer ${key}`).expect(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      await http.get('/api/v1/sites').set('Authorization', `Bearer ${other}`).expect(200); // per key
    } finally {
      await app.close();
      await influxd.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
