import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import JSZip from 'jszip';
import supertest from 'supertest';
import { ALERTS_APP, OutboxDispatcher, receiverKey, verifyWebhook } from '@peakwatch/alerts';
import { API_APP, ApiKeysRepository } from '@peakwatch/api';
import type { AppConfig } from '@peakwatch/config';
import { loadScenario } from '@peakwatch/device-sim';
import { INGEST_APP } from '@peakwatch/ingest';
import type { InfluxClient, InfluxSeries } from '@peakwatch/influx';
import { freePort } from '@peakwatch/process';
import { REPORTS_APP } from '@peakwatch/reports';
import { ReportService, type CarbonMarketPosition, type Report } from '@peakwatch/reporting';
import { Clock, createApp } from '@peakwatch/runtime';
import { CLI, buildDist } from '../support/build';
import { DAY, HOUR, beijingMidnight } from '../support/calendar';
import { startInfluxd, type TestInfluxd } from '../support/influxd';
import { childEnv } from '../support/processes';
import {
  backfill,
  issueDeviceSecrets,
  publishLate,
  scalar,
  spoolDrained,
  stopSchedules,
  testConfig,
} from '../support/ingest';

const SEEDS = join(__dirname, '../../seeds');
/** The reported month: February 2026 (28 days, the emission factors of 2026). */
const PERIOD = '2026-02';
const SECRET = 'test-report-secret-0123456789';
const ORG = 'hd-tech-campus';
/** What the emitter declares for the month: certificates, heat bought for sites without a meter, its output. */
/** The allowance declared for 2026 the second time: far below the campus's emissions, warned at 100 t short. */
const ALLOWANCE = { allowanceT: 1000, carbonPriceCnyPerT: 90, warnShortfallT: 100 };
const DECLARED = {
  greenCertificates: 10,
  purchasedHeatKwh: 5000,
  output: { quantity: 1200, unit: 'lab m²' },
};

interface DayTruth {
  window: string;
  consumptionKwh: number;
  gridImportKwh: number;
  gridExportKwh?: number;
  pvKwh?: number;
  gasM3?: number;
  purchasedHeatKwh?: number;
}

/**
 * Reports end to end: the whole previous month of the sample campus backfilled by the simulator through the real
 * broker and ingest into the real influxd, the report generated, filed as JSON, CSV and a PDF with Chinese text,
 * submitted to a real receiver (down at first) with its signature; then late readings change the month, and version 2
 * is generated and submitted as a correction of version 1 with what changed.
 */
describe('emitter reports', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'peakwatch-reports-'));
  let influxd: TestInfluxd;
  let influx: InfluxClient;
  let config: AppConfig;
  let app: INestApplication;
  let server: Server;
  const period = PERIOD;
  const monthStart = beijingMidnight(`${PERIOD}-01`);
  const monthEnd = beijingMidnight('2026-03-01');
  /** The product's clock: 10:00 on 3 March, the month settled. */
  const clock = Clock.startingAt(monthEnd + 2 * DAY + 10 * HOUR);
  const got: {
    signatureOk: boolean;
    delivery: string;
    body: { version: number; corrects: number | null; changes: string[]; causes: string[]; report: Report };
  }[] = [];
  let down = true;
  let truthDays: Record<string, DayTruth[]>;
  let v1: Awaited<ReturnType<ReportService['generate']>>;
  let v2: Awaited<ReturnType<ReportService['generate']>>;
  let again: Awaited<ReturnType<ReportService['generate']>>;
  let declaration: { valid: number; invalid: supertest.Response };
  let regenerated: supertest.Response;
  let evidenceDownload: supertest.Response;
  let verified: SpawnSyncReturns<string>[];
  let edited: SpawnSyncReturns<string>;
  let allowances: supertest.Response[];
  let positions: Record<'emitter' | 'regulator' | 'otherDistrict' | 'badYear', supertest.Response>;
  let v4: Awaited<ReturnType<ReportService['generate']>>;
  let positionSeries: InfluxSeries | undefined;
  const warnings: { signatureOk: boolean; body: Record<string, unknown> }[] = [];

  const deliver = async (aheadMs: number): Promise<void> => {
    const outbox = app.get(OutboxDispatcher);
    for (let pass = 0; pass < 20 && (await outbox.deliverDue(clock.now() + aheadMs)) > 0; pass++);
  };
  const drained = async (): Promise<void> => {
    expect(await spoolDrained(config.http.port)).toBe(true);
  };

  beforeAll(async () => {
    const port = await freePort();
    const receiverUrl = `http://127.0.0.1:${port}/reports`;
    const emitterUrl = `http://127.0.0.1:${port}/emitter`;
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        if (down) return void res.writeHead(503).end();
        if (req.url === '/emitter') {
          const signatureOk = verifyWebhook(req.headers, body, receiverKey(SECRET, emitterUrl), Date.now());
          warnings.push({ signatureOk, body: JSON.parse(body) as Record<string, unknown> });
          return void res.writeHead(204).end();
        }
        got.push({
          signatureOk: verifyWebhook(req.headers, body, receiverKey(SECRET, receiverUrl), Date.now()),
          delivery: String(req.headers['x-peakwatch-delivery']),
          body: JSON.parse(body) as (typeof got)[number]['body'],
        });
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ receipt: `R-${got.length}` }));
      });
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    influxd = await startInfluxd();
    influx = await influxd.client('reports');
    config = await testConfig(influxd.url, 'reports', dataDir, {
      SEEDS_DIR: SEEDS,
      REPORT_ENDPOINTS: `org:${ORG}=${receiverUrl}`,
      EMITTER_WEBHOOKS: `${ORG}=${emitterUrl}`,
      ALERT_WEBHOOK_SECRET: SECRET,
    });
    app = await createApp(config, [INGEST_APP, ALERTS_APP, REPORTS_APP, API_APP], { clock });
    stopSchedules(app); // the test generates and delivers itself

    const scenario = loadScenario(join(SEEDS, 'scenarios/haidian-campus.yaml'));
    const secrets = await issueDeviceSecrets(app);
    const truth = (await backfill({
      scenario,
      seed: 11,
      fromMs: monthStart,
      toMs: monthEnd,
      brokerUrl: `mqtt://127.0.0.1:${config.mqtt.port}`,
      credentials: secrets,
      httpPort: config.http.port,
      clock,
    })) as { sites: Record<string, { days: DayTruth[] }> };
    truthDays = Object.fromEntries(Object.entries(truth.sites).map(([k, v]) => [k, v.days]));

    // The grid meter's last 6 hours of the month (up to the reading at midnight) arrive late: held back for now.
    // Nothing of the backfill may still be on its way to InfluxDB (a batch retried under load would write them
    // again after the deletion), and the deletion is checked before version 1 is generated without them.
    await drained();
    const range = `device = 'b1-grid' AND time > ${monthEnd - 6 * HOUR}ms AND time <= ${monthEnd}ms`;
    const [held] = await influx.query(`SELECT * FROM telemetry WHERE ${range}`);
    expect(held!.rows).toHaveLength(72);
    // influxd answers a DELETE 200 even when it did not delete (the error is in the body): deleted until gone
    const count = () => scalar(influx, `SELECT count(seq) FROM telemetry WHERE ${range}`);
    const answers: string[] = [];
    for (let attempt = 0; attempt < 5 && (await count()) > 0; attempt++) {
      const deleted = await fetch(
        `${influxd.url}/query?db=reports&q=${encodeURIComponent(`DELETE FROM telemetry WHERE ${range}`)}`,
        { method: 'POST' },
      );
      answers.push(`${deleted.status} ${await deleted.text()}`);
      await drained();
    }
    expect({ left: await count(), answers }).toMatchObject({ left: 0 });

    v1 = await app.get(ReportService).generate(ORG, period);
    await deliver(0); // the receiver is down: kept in the outbox
    down = false;
    await deliver(86_400_000);

    await publishLate(
      `mqtt://127.0.0.1:${config.mqtt.port}`,
      { siteId: 'hd-b1', deviceId: 'b1-grid', secret: secrets['b1-grid']! },
      held!.rows,
    );
    await drained();
    expect(await scalar(influx, `SELECT count(seq) FROM telemetry WHERE ${range}`)).toBe(72);
    v2 = await app.get(ReportService).generate(ORG, period);
    await deliver(2 * 86_400_000);
    again = await app.get(ReportService).generate(ORG, period);

    // what the emitter declares for the month, through the API: version 3
    const http = supertest(app.getHttpServer() as Server);
    const key = async (role: 'emitter' | 'regulator', scope: string): Promise<string> =>
      `Bearer ${(await app.get(ApiKeysRepository).create({ name: role, role, scope: [scope] })).key}`;
    const emitter = await key('emitter', ORG);
    const put = (body: object) =>
      http.put(`/api/v1/reports/${ORG}/${period}/inputs`).set('Authorization', emitter).send(body);
    declaration = { valid: (await put(DECLARED)).status, invalid: await put({ greenCertificates: -1 }) };
    regenerated = await http
      .post(`/api/v1/reports/${ORG}/${period}/regenerate`)
      .set('Authorization', emitter);
    evidenceDownload = await http
      .get(`/api/v1/reports/${ORG}/${period}/2/evidence`)
      .set('Authorization', emitter)
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done(null, Buffer.concat(chunks)));
      });

    // The carbon market: an allowance for 2026 declared, then declared again (a second version) with a threshold the
    // projection crosses; the position through the API; February regenerated with it (version 4), its warning sent
    const allowance = (body: object) =>
      http.put(`/api/v1/reports/${ORG}/2026/allowance`).set('Authorization', emitter).send(body);
    allowances = [
      await allowance({ allowanceT: 8000, carbonPriceCnyPerT: 90 }),
      await allowance(ALLOWANCE),
      await allowance({ allowanceT: -5 }),
      await http
        .put(`/api/v1/reports/${ORG}/2026/allowance`)
        .set('Authorization', await key('regulator', 'haidian'))
        .send(ALLOWANCE),
    ];
    positions = {
      emitter: await http.get(`/api/v1/reports/${ORG}/2026/position`).set('Authorization', emitter),
      regulator: await http
        .get(`/api/v1/reports/${ORG}/2026/position`)
        .set('Authorization', await key('regulator', 'haidian')),
      otherDistrict: await http
        .get(`/api/v1/reports/${ORG}/2026/position`)
        .set('Authorization', await key('regulator', 'chaoyang')),
      badYear: await http.get(`/api/v1/reports/${ORG}/26/position`).set('Authorization', emitter),
    };
    v4 = await app.get(ReportService).generate(ORG, period);
    await deliver(3 * 86_400_000);
    [positionSeries] = await influx.query('SELECT * FROM carbon_position GROUP BY *');

    // The evidence: InfluxDB's database dropped, each version's bundle is verified by the command line alone (no
    // InfluxDB, no state store in its environment); then a copy of version 2's with one reading edited
    const listed = async (): Promise<boolean> =>
      (await fetch(`${influxd.url}/query?q=SHOW%20DATABASES`).then((r) => r.text())).includes('"reports"');
    const drops: string[] = [];
    for (let attempt = 0; attempt < 5 && (await listed()); attempt++) {
      const q = encodeURIComponent('DROP DATABASE "reports"');
      const dropped = await fetch(`${influxd.url}/query?q=${q}`, { method: 'POST' });
      drops.push(`${dropped.status} ${await dropped.text()}`);
    }
    expect({ listed: await listed(), drops }).toMatchObject({ listed: false });
    buildDist();
    const verifyCli = (bundle: string) =>
      spawnSync(process.execPath, [CLI, 'report', 'verify', bundle], { encoding: 'utf8', env: childEnv() });
    const bundle = (version: number) => join(dataDir, 'reports', ORG, period, `v${version}.evidence.zip`);
    verified = [1, 2, 3, 4].map((v) => verifyCli(bundle(v)));
    const zip = await JSZip.loadAsync(readFileSync(bundle(2)));
    const csv = await zip.file('readings/hd-b1/b1-grid.csv')!.async('string');
    const [header, ...lines] = csv.trimEnd().split('\n');
    const column = header!.split(',').indexOf('energy_import_kwh');
    const at = lines.findIndex((l) => l.startsWith(`${new Date(monthEnd).toISOString()},`));
    const cells = lines[at]!.split(',');
    cells[column] = String(Number(cells[column]) + 10);
    lines[at] = cells.join(',');
    zip.file('readings/hd-b1/b1-grid.csv', `${[header, ...lines].join('\n')}\n`);
    const editedPath = join(dataDir, 'edited.evidence.zip');
    writeFileSync(editedPath, await zip.generateAsync({ type: 'nodebuffer' }));
    edited = verifyCli(editedPath);
  }, 600_000);
  afterAll(async () => {
    await app?.close();
    await influxd?.stop();
    await new Promise((resolve) => server?.close(resolve));
    rmSync(dataDir, { recursive: true, force: true });
  });

  /**
   * What the meters' resolution allows, by hand. A register is sent to 0.001 (kWh, m3) of what the meter shows, which
   * is the primary energy over the CT ratio; so one meter's energy over the month (its last reading minus its first)
   * differs from the simulator's integral by at most 0.001 × its CT ratio, and a sum over meters by the sum of theirs.
   */
  const resolution = (...ctRatios: number[]): number => ctRatios.reduce((sum, ct) => sum + 0.001 * ct, 0);
  /** b1-grid, b2-grid (20:1 CT), b3-grid, dc1-total */
  const GRID_IMPORT = resolution(1, 20, 1, 1);
  /** the grid meters' imports, b1-grid's export, b1-pv */
  const CONSUMPTION = GRID_IMPORT + resolution(1, 1);
  /** The report prints quantities to 0.001 and tonnes to 0.0001: half a unit of the last digit, per rounded figure. */
  const PRINTED_QUANTITY = 0.0005;
  const PRINTED_TONNES = 0.00005;
  const within = (actual: number, expected: number, tolerance: number): void => {
    expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tolerance + 1e-9);
  };
  /** Version 3, filed with the emitter's declarations. */
  const v3Report = (): Report =>
    JSON.parse(readFileSync(join(dataDir, 'reports', ORG, period, 'v3.json'), 'utf8')) as Report;
  const days = (): DayTruth[] => Object.values(truthDays).flat();
  const total = (field: keyof DayTruth): number => days().reduce((s, d) => s + Number(d[field] ?? 0), 0);

  it("equals the simulator's ground truth for the month: energy by carrier, and CO2 with the policy's factors", () => {
    const report = v2.report;
    const carrier = (name: string): number =>
      report.energy.carriers.find((c) => c.carrier === name)!.quantity;
    within(carrier('grid_electricity'), total('gridImportKwh'), GRID_IMPORT + PRINTED_QUANTITY);
    within(carrier('onsite_pv'), total('pvKwh'), resolution(1) + PRINTED_QUANTITY);
    within(carrier('natural_gas'), total('gasM3'), resolution(1) + PRINTED_QUANTITY);
    within(report.energy.exportedKwh, total('gridExportKwh'), resolution(1) + PRINTED_QUANTITY);
    within(report.energy.consumedElectricityKwh, total('consumptionKwh'), CONSUMPTION + PRINTED_QUANTITY);
    // hd-b3's district heat, metered (February is in the heating season)
    expect(total('purchasedHeatKwh')).toBeGreaterThan(10_000);
    within(carrier('purchased_heat'), total('purchasedHeatKwh'), resolution(1) + PRINTED_QUANTITY);
    // by hand from seeds/emission-factors/electricity-and-fuels.yaml: in February 2026 the newest national grid
    // factor published is cn-grid-2023 (0.5306 kgCO2/kWh, in force from 2025-01-01); natural gas 2.162 kgCO2/m3;
    // heat 0.11 tCO2/GJ. Electricity is the net purchase: exports deducted (GB/T 32150)
    const grid = 0.5306;
    const gas = 2.162;
    within(
      report.emissions.indirectElectricityLocationT,
      ((total('gridImportKwh') - total('gridExportKwh')) * grid) / 1000,
      ((GRID_IMPORT + resolution(1)) * grid) / 1000 + PRINTED_TONNES,
    );
    within(
      report.emissions.directT,
      (total('gasM3') * gas) / 1000,
      (resolution(1) * gas) / 1000 + PRINTED_TONNES,
    );
    within(
      report.emissions.heatT,
      total('purchasedHeatKwh') * 0.0036 * 0.11,
      resolution(1) * 0.0036 * 0.11 + PRINTED_TONNES,
    );
    // coal equivalents: electricity 0.1229 kgce/kWh, Beijing's gas-field gas 1.2143 kgce/m³, heat 0.03412 kgce/MJ
    within(
      report.energy.totalTce,
      (total('consumptionKwh') * 0.1229 + total('gasM3') * 1.2143 + total('purchasedHeatKwh') * 0.122832) /
        1000,
      // the meters' resolution, and the total rounded once more (the quantities it is made of are rounded too)
      (CONSUMPTION * 0.1229 + resolution(1) * 1.2143 + resolution(1) * 0.122832) / 1000 + 4 * PRINTED_TONNES,
    );
    expect(report.factors.map((f) => f.id)).toEqual(
      expect.arrayContaining([
        'cn-grid-2023',
        'natural-gas-default',
        'natural-gas-kgce',
        'purchased-heat-default',
      ]),
    );
    expect(report.boundary.map((b) => b.siteId).sort()).toEqual(['hd-b1', 'hd-b2', 'hd-b3', 'hd-dc1']);
    expect(report.contentHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('sees six hours of one meter missing: version 1 is off the truth by more than the resolution allows', () => {
    const grid = v1.report.energy.carriers.find((c) => c.carrier === 'grid_electricity')!.quantity;
    const missing = total('gridImportKwh') - grid;
    expect(missing).toBeGreaterThan(GRID_IMPORT);
    // a relative tolerance of 0.5% would have let it pass as equal to the truth
    expect(missing / total('gridImportKwh')).toBeLessThan(0.005);
  });

  it('yields a report when data is missing, stating its completeness per meter', () => {
    const line = (r: Report) =>
      r.meters.find((m) => m.deviceId === 'b1-grid' && m.metric === 'energy_import_kwh')!;
    // 71 of the 72 held readings fall in the month; the one at midnight opens the next (it closes the last interval)
    expect(line(v1.report).readingsReceived).toBe(line(v2.report).readingsReceived - 71);
    expect(line(v1.report).completeness).toBeLessThan(line(v2.report).completeness);
    expect(v1.report.completeness).toBeLessThan(v2.report.completeness);
    expect(line(v1.report).quantity).toBeLessThan(line(v2.report).quantity);
  });

  it('submits each version once, signed, with its receipt stored; a change is a correction of the previous version', async () => {
    // the submissions of versions 1 and 2 (the declared-inputs test below may have added a third, and the outbox's
    // own loop may have delivered it already, whichever runs first)
    const submitted = got.filter((g) => g.body.version <= 2);
    expect(submitted.map((g) => [g.body.version, g.body.corrects])).toEqual([
      [1, null],
      [2, 1],
    ]);
    expect(got.every((g) => g.signatureOk)).toBe(true);
    expect(new Set(submitted.map((g) => g.delivery)).size).toBe(2);
    expect(v2.version).toMatchObject({ version: 2, corrects: 1 });
    expect(v2.version.changes.join('\n')).toMatch(/^energy\.grid_electricity \(kWh\): [\d.]+ → [\d.]+$/m);
    expect(submitted[1]!.body.changes).toEqual(v2.version.changes);
    // what caused them, from the two versions' evidence: the 72 readings held back, (monthEnd − 6 h, monthEnd]
    const held = [monthEnd - 6 * HOUR + 5 * 60_000, monthEnd].map((t) => new Date(t).toISOString());
    expect(v2.version.causes).toEqual([`readings of hd-b1/b1-grid: 72 added (${held[0]} … ${held[1]})`]);
    expect(submitted[1]!.body.causes).toEqual(v2.version.causes);
    expect(v1.version.causes).toEqual([]);
    // (versions 1 and 2, those of the backfill; the declared-inputs test below may have added a third in any order)
    const stored = (await app.get(ReportService).versions(ORG)).filter((v) => v.version <= 2);
    expect(stored.map((v) => [v.version, v.submission?.receipt])).toEqual([
      [1, '{"receipt":"R-1"}'],
      [2, '{"receipt":"R-2"}'],
    ]);
    expect(stored[0]!.submission!.attempts).toBe(2); // once refused (receiver down), then delivered
    // unchanged data: no new version
    expect(again).toMatchObject({ created: false, version: { version: 2 } });
  });

  it('files a PDF with Chinese and English labels (pdftotext), and a CSV per meter', () => {
    const pdf = join(dataDir, 'reports', ORG, period, 'v2.pdf');
    const text = spawnSync('pdftotext', [pdf, '-'], { encoding: 'utf8' });
    if (text.error)
      throw new Error(`pdftotext is missing: sudo apt-get install -y poppler-utils (${text.error.message})`);
    expect(text.stdout).toContain('月度能源与碳排放报告 Monthly energy and emissions report');
    expect(text.stdout).toContain('北京海淀科技园运营有限公司');
    expect(text.stdout).toContain('更正 corrects version 1');
    expect(text.stdout).toContain('电网电力 Grid electricity');
    const csv = readFileSync(join(dataDir, 'reports', ORG, period, 'v2.csv'), 'utf8')
      .trimEnd()
      .split('\n');
    expect(csv[0]).toBe(
      'period,site,device,role,metric,unit,quantity,estimated,readings_received,readings_expected,completeness,batches',
    );
    expect(csv).toHaveLength(v2.report.meters.length + 1);
    const grid = csv.find((l) => l.includes(',b1-grid,grid,energy_import_kwh,'))!.split(',');
    expect(Number(grid[6])).toBe(
      v2.report.meters.find((m) => m.deviceId === 'b1-grid' && m.metric === 'energy_import_kwh')!.quantity,
    );
  });

  it('serves every version in every format through the API, to the emitter and its regulator only', async () => {
    const repository = app.get(ApiKeysRepository);
    const key = async (role: 'emitter' | 'regulator', scope: string): Promise<string> =>
      `Bearer ${(await repository.create({ name: role, role, scope: [scope] })).key}`;
    const http = supertest(app.getHttpServer() as Server);
    const emitter = await key('emitter', ORG);
    const list = await http.get(`/api/v1/reports/${ORG}`).set('Authorization', emitter).expect(200);
    // versions 1 and 2 of the backfill (the declared-inputs test may have added a third, in any order)
    expect((list.body as { version: number }[]).map((v) => v.version).slice(0, 2)).toEqual([1, 2]);
    const pdf = await http
      .get(`/api/v1/reports/${ORG}/${period}/1/pdf`)
      .set('Authorization', emitter)
      .expect(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    await http
      .get(`/api/v1/reports/${ORG}/${period}/2/csv`)
      .set('Authorization', await key('regulator', 'haidian'))
      .expect(200);
    await http
      .get(`/api/v1/reports/${ORG}`)
      .set('Authorization', await key('regulator', 'chaoyang'))
      .expect(403);
    await http.get(`/api/v1/reports/no-such-org`).set('Authorization', emitter).expect(404);
    const bad = await http
      .get(`/api/v1/reports/${ORG}/2026-13/1/pdf`)
      .set('Authorization', emitter)
      .expect(400);
    expect(bad.body).toMatchObject({ field: 'period' });
  });

  it('takes what the emitter declares for the month (certificates, purchased heat, output) into a correcting version', () => {
    expect(declaration.valid).toBe(200);
    expect(declaration.invalid.status).toBe(400);
    expect(declaration.invalid.body).toMatchObject({ field: 'greenCertificates' });
    expect(regenerated.status).toBe(200);
    expect(regenerated.body).toMatchObject({
      created: true,
      version: {
        version: 3,
        corrects: 2,
        causes: ['declared inputs: greenCertificates, output, purchasedHeatKwh changed'],
      },
    });
    const v3 = v3Report();
    const carrier = (r: Report, name: string) => r.energy.carriers.find((c) => c.carrier === name)!;
    expect(carrier(v3, 'green_certificates').quantity).toBe(10_000);
    // declared heat adds to the metered heat
    expect(carrier(v3, 'purchased_heat').quantity).toBeCloseTo(
      carrier(v2.report, 'purchased_heat').quantity + 5000,
      3,
    );
    // by hand: 10 certificates take 10,000 kWh off the net purchase at the residual factor;
    // 5,000 kWh of heat more = 18 GJ × 0.11 t/GJ = 1.98 t
    const residual = v3.factors.find((f) => f.id.startsWith('cn-grid-residual'))?.value ?? 0;
    const netKwh = carrier(v3, 'grid_electricity').quantity - v3.energy.exportedKwh;
    expect(v3.emissions.indirectElectricityMarketT).toBeCloseTo(((netKwh - 10_000) * residual) / 1000, 3);
    expect(v3.emissions.heatT - v2.report.emissions.heatT).toBeCloseTo(1.98, 3);
    expect(v3.intensities.perOutput).toMatchObject({ unit: 'lab m²', quantity: 1200 });
    expect(v3.intensities.perOutput!.tcePerUnit).toBeCloseTo(v3.energy.totalTce / 1200, 5);
    expect(v3.energy.totalTce - v2.report.energy.totalTce).toBeCloseTo((5000 * 0.1228) / 1000, 3);
  });

  it("recomputes every version from its evidence bundle alone, with InfluxDB's database dropped", () => {
    for (const [i, run] of verified.entries()) {
      expect({ version: i + 1, status: run.status, stderr: run.stderr }).toEqual({
        version: i + 1,
        status: 0,
        stderr: '',
      });
      const hash = JSON.parse(
        readFileSync(join(dataDir, 'reports', ORG, period, `v${i + 1}.json`), 'utf8'),
      ) as Report;
      expect(run.stdout).toContain(
        `evidence bundle of ${ORG} ${period} version ${i + 1}: layout peakwatch-evidence/1`,
      );
      expect(run.stdout).toContain(
        `report content hash ${hash.contentHash}\nevidence sha256 ${hash.evidence.sha256}\n`,
      );
      expect(run.stdout).toMatch(/\nmatch: /);
    }
  });

  it('keeps in each bundle what the figures came from: the declarations, the boundary, the factors', async () => {
    const v3 = await JSZip.loadAsync(readFileSync(join(dataDir, 'reports', ORG, period, 'v3.evidence.zip')));
    const read = async (path: string): Promise<unknown> => JSON.parse(await v3.file(path)!.async('string'));
    expect(await read('inputs.json')).toEqual(DECLARED);
    expect(((await read('registry.json')) as { id: string }[]).map((s) => s.id).sort()).toEqual([
      'hd-b1',
      'hd-b2',
      'hd-b3',
      'hd-dc1',
    ]);
    const { factors } = (await read('policy.json')) as { factors: { id: string; source: string }[] };
    expect(factors.find((f) => f.id === 'cn-grid-2023')).toMatchObject({
      value: 0.5306,
      validFrom: '2025-01-01',
    });
  });

  it("names the edited file and each figure an edited reading changes, with the report's value and the evidence's", () => {
    expect(edited.status).toBe(1);
    const lines = edited.stdout.split('\n');
    expect(lines.filter((l) => l.startsWith('file '))).toEqual([
      'file   readings/hd-b1/b1-grid.csv: changed (its SHA-256 is not the one listed)',
    ]);
    const figure = (field: string): [number, number] => {
      const prefix = `figure ${field}: the report states `;
      const found = lines.find((l) => l.startsWith(prefix));
      expect(`${field}: ${found}`).toContain(', the evidence gives ');
      const [stated, recomputed] = found!.slice(prefix.length).split(', the evidence gives ');
      return [Number(stated), Number(recomputed)];
    };
    // the month's last reading of b1-grid 10 kWh higher: its line and the grid electricity 10 kWh more, CO2 with it
    const line = v2.report.meters.find((m) => m.deviceId === 'b1-grid' && m.metric === 'energy_import_kwh')!;
    const [stated, recomputed] = figure('meters[hd-b1/b1-grid/energy_import_kwh].quantity');
    expect(stated).toBe(line.quantity);
    expect(recomputed - stated).toBeCloseTo(10, 3);
    const [grid, gridRecomputed] = figure('energy.carriers[grid_electricity].quantity');
    expect(gridRecomputed - grid).toBeCloseTo(10, 3);
    const [co2, co2Recomputed] = figure('emissions.indirectElectricityLocationT');
    expect(co2Recomputed - co2).toBeCloseTo((10 * 0.5306) / 1000, 3);
    // nothing else of the meters changed
    expect(lines.filter((l) => l.startsWith('figure meters'))).toHaveLength(1);
    expect(edited.stderr).toBe('peakwatch: the bundle does not match its report\n');
  });

  it('serves the evidence bundle through the API with the report, as a zip', async () => {
    expect(evidenceDownload.status).toBe(200);
    expect(evidenceDownload.headers['content-type']).toBe('application/zip');
    expect(evidenceDownload.headers['content-disposition']).toBe(
      `attachment; filename="${ORG}-${period}-v2.evidence.zip"`,
    );
    const served = await JSZip.loadAsync(evidenceDownload.body as Buffer);
    expect(Object.keys(served.files)).toEqual(
      expect.arrayContaining(['bundle.json', 'report.json', 'SHA256SUMS', 'readings/hd-b1/b1-grid.csv']),
    );
  });

  it('keeps every allowance declared for a year as a version, refuses a bad one and a regulator', () => {
    expect(allowances.map((r) => r.status)).toEqual([200, 200, 400, 403]);
    expect(allowances[0]!.body).toMatchObject({ version: 1, allowanceT: 8000 });
    expect(allowances[1]!.body).toMatchObject({ version: 2, ...ALLOWANCE });
    expect(allowances[2]!.body).toMatchObject({ field: 'allowanceT' });
  });

  it("states the position: February's emissions projected over the year's days, short of the allowance, in t and CNY", () => {
    expect(positions.emitter.status).toBe(200);
    const position = positions.emitter.body as CarbonMarketPosition;
    // February 2026 filed (its latest version); January has no report; 2025 none, so linear by days: × 365 / 28
    const feb = v3Report().emissions.totalLocationT;
    expect(position.reports.map((r) => [r.period, r.version])).toEqual([['2026-02', 3]]);
    expect(position.toDateT).toBeCloseTo(feb, 4);
    expect(position.method).toBe('linear_by_days');
    expect(position.projectedT!).toBeCloseTo((feb * 365) / 28, 3);
    expect(position.surplusT!).toBeCloseTo(1000 - (feb * 365) / 28, 3);
    expect(position.surplusCny!).toBeCloseTo((1000 - (feb * 365) / 28) * 90, 1);
    expect(position.surplusT!).toBeLessThan(-100);
    expect(position).toMatchObject({ warning: true, allowance: { version: 2, allowanceT: 1000 } });
    expect(positions.regulator.status).toBe(200);
    expect(positions.otherDistrict.status).toBe(403);
    expect(positions.badYear.status).toBe(400);
    expect(positions.badYear.body).toMatchObject({ field: 'year' });
  });

  it('puts the position in the monthly report (verified from its bundle), and warns the organisation once', () => {
    const market = v4.report.carbonMarket!;
    const position = positions.emitter.body as CarbonMarketPosition;
    expect(market).toMatchObject({
      allowanceT: 1000,
      allowanceVersion: 2,
      monthsFiled: [2],
      toDateT: position.toDateT,
      projectedT: position.projectedT,
      surplusT: position.surplusT,
      surplusCny: position.surplusCny,
      warning: true,
    });
    expect(v4.version.causes).toEqual(['the allowance, or the earlier months it counts, changed']);
    // and as a point of carbon_position for the dashboards, at the month's end
    expect(positionSeries?.tags).toEqual({ org: ORG, district: 'haidian', year: '2026' });
    expect(positionSeries?.rows).toEqual([
      {
        time: monthEnd,
        allowance_t: 1000,
        to_date_t: market.toDateT,
        projected_t: market.projectedT,
        surplus_t: market.surplusT,
        surplus_cny: market.surplusCny,
        warning: true,
        report_version: 4,
      },
    ]);
    expect(v4.version.changes).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      signatureOk: true,
      body: {
        type: 'carbon_position_warning',
        organisation: ORG,
        period,
        reportVersion: 4,
        surplusT: market.surplusT,
      },
    });
    const text = spawnSync('pdftotext', [join(dataDir, 'reports', ORG, period, 'v4.pdf'), '-'], {
      encoding: 'utf8',
    }).stdout;
    expect(text).toContain('碳市场履约 Carbon-market position');
    expect(text).toContain('缺口 Shortfall');
  });
});
