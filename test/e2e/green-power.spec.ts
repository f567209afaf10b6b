import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { ANALYTICS_APP, KpiCron } from '@peakwatch/analytics';
import { API_APP, ApiKeysRepository } from '@peakwatch/api';
import { loadScenario } from '@peakwatch/device-sim';
import { INGEST_APP } from '@peakwatch/ingest';
import { ReportService, type Report } from '@peakwatch/reporting';
import { Clock, createApp } from '@peakwatch/runtime';
import supertest from 'supertest';
import { DAY, HOUR, beijingMidnight } from '../support/calendar';
import { startInfluxd, type TestInfluxd } from '../support/influxd';
import { backfill, issueDeviceSecrets, stopSchedules, testConfig } from '../support/ingest';
import { copySeeds } from '../support/seeds';
import { expectWithin, ratioTolerance, registerTolerance } from '../support/tolerance';

/**
 * The simulated period: 13 and 14 January 2026 (any two days of a year serve: the year's shares are of the days
 * measured); the product's clock at 01:00 on the 15th, so the KPI job's look-back covers both days.
 */
const FROM = beijingMidnight('2026-01-13');
const CLOCK_AT = FROM + 2 * DAY + HOUR;
/** When the declarations are made and the KPI job runs again: 20 February, its look-back far from January. */
const LATER = beijingMidnight('2026-02-20') + 2 * HOUR + 17 * 60_000;
const YEAR = beijingMidnight('2026-01-01');
const ORG = 'hd-tech-campus';

interface DayTruth {
  consumptionKwh: number;
  pvKwh?: number;
}

/**
 * Green power bought, end to end (docs/domain.md, "Green power"): two days of the sample campus through the broker,
 * ingest and influxd; the KPI job's year for the data centre (commissioned 2025: Haidian's renewable trajectory
 * applies) says "not declared" while nothing is declared, and once its organisation declares a green-power contract
 * for it through the API, the year's renewable shares count it, checked by hand against the simulator's truth.
 */
describe('green power declared: certificates and contracts in the renewable share', () => {
  const seeds = copySeeds({
    'sites/hd-dc1.yaml': [["commissionedOn: '2021-06-01'", "commissionedOn: '2025-01-01'"]],
  });
  const dataDir = mkdtempSync(join(tmpdir(), 'peakwatch-green-'));
  const clock = Clock.startingAt(CLOCK_AT);
  let influxd: TestInfluxd;
  let app: INestApplication;
  let truth: { sites: Record<string, { days: DayTruth[] }> };
  let emitter: string;
  let admin: string;
  const http = () => supertest(app.getHttpServer() as Server);
  type ApiKpi = { kpi: string; windowStart: string; value: number | null; undeclared?: boolean };
  const kpis = async (entity: string, period: '1y' | '1mo'): Promise<ApiKpi[]> =>
    (
      await http()
        .get(`/api/v1/kpis?scope=site&entity=${entity}&period=${period}&from=2025-12-01&to=2026-03-01`)
        .set('Authorization', admin)
        .expect(200)
    ).body as ApiKpi[];
  const find = (list: ApiKpi[], kpi: string, startMs: number): ApiKpi | undefined =>
    list.find((k) => k.kpi === kpi && Date.parse(k.windowStart) === startMs);
  const put = (period: string, body: object) =>
    http().put(`/api/v1/reports/${ORG}/${period}/inputs`).set('Authorization', emitter).send(body);
  const declare = async (period: string, body: object): Promise<void> => {
    await put(period, body).expect(200);
  };
  const contract = (mwh: number, evidenceId: string, siteId = 'hd-dc1') => ({
    kind: 'contract',
    mwh,
    evidenceId,
    siteId,
  });
  /** Declarations the API refuses, each with the field it names and what is stored after it. */
  const refusals = async (attempts: [string, object][]) => {
    const out: { status: number; field: unknown; storedAfter: string }[] = [];
    for (const [period, body] of attempts) {
      const res = await put(period, body);
      out.push({
        status: res.status,
        field: (res.body as { field?: unknown }).field,
        storedAfter: JSON.stringify(await app.get(ReportService).inputs(ORG, period)),
      });
    }
    return out;
  };
  let undeclared: { year: ApiKpi[]; b1: ApiKpi[] };
  let refused: Awaited<ReturnType<typeof refusals>>;
  let declared: { year: ApiKpi[]; month: ApiKpi[]; report: Report };
  let none: ApiKpi[];

  beforeAll(async () => {
    influxd = await startInfluxd();
    const config = await testConfig(influxd.url, 'green', dataDir, { SEEDS_DIR: seeds });
    app = await createApp(config, [INGEST_APP, ANALYTICS_APP, API_APP], { clock });
    stopSchedules(app);
    const scenario = loadScenario(join(seeds, 'scenarios', 'haidian-campus.yaml'));
    const secrets = await issueDeviceSecrets(app);
    truth = (await backfill({
      scenario,
      seed: 7,
      fromMs: FROM,
      toMs: FROM + 2 * DAY,
      brokerUrl: `mqtt://127.0.0.1:${config.mqtt.port}`,
      credentials: secrets,
      httpPort: config.http.port,
      clock,
    })) as typeof truth;
    const keys = app.get(ApiKeysRepository);
    emitter = `Bearer ${(await keys.create({ name: 'emitter', role: 'emitter', scope: [ORG] })).key}`;
    admin = `Bearer ${(await keys.create({ name: 'admin', role: 'admin', scope: [] })).key}`;
    const cron = app.get(KpiCron);
    await cron.runOnce(clock.now());
    // the year as the KPI job writes it before any declaration
    undeclared = { year: await kpis('hd-dc1', '1y'), b1: await kpis('hd-b1', '1y') };
    // declared weeks later (the job's look-back no longer reaches January): for the year, a 12 MWh contract for
    // the data centre and five certificates of the organisation without a site (its report counts them, no site's
    // KPI does: the organisation has four sites); for January, a 5 MWh contract
    await declare('2026', { greenCertificates: 5, greenPower: [contract(12, 'BJ-GP-2026-0001')] });
    refused = await refusals([
      ['2026-01', { greenPower: [contract(10, 'BJ-GP-2026-0002', 'cy-dc9')] }],
      ['2026-01', { greenPower: [contract(10, '<script>')] }],
      ['2026-01', { greenPower: [{ kind: 'certificate', mwh: -1, evidenceId: 'GEC 1' }] }],
      ['2026-01', { greenPower: [{ kind: 'certificate', mwh: 1.5, evidenceId: 'GEC 1' }] }],
      ['2026-01', { greenPower: [contract(1, 'BJ-GP-2026-0002'), contract(2, 'BJ-GP-2026-0002')] }],
      ['2026-01', { greenPower: [contract(5, 'BJ-GP-2026-0001')] }], // the year's contract, claimed again
    ]);
    await declare('2026-01', { greenPower: [contract(5, 'BJ-GP-2026-0002')] });
    await cron.runOnce(LATER);
    declared = {
      year: await kpis('hd-dc1', '1y'),
      month: await kpis('hd-dc1', '1mo'),
      report: (await app.get(ReportService).generate(ORG, '2026')).report,
    };
    // then declared none bought, for the year and for January
    await declare('2026', { greenPower: [] });
    await declare('2026-01', { greenPower: [] });
    await cron.runOnce(LATER + HOUR);
    none = await kpis('hd-dc1', '1y');
  }, 600_000);
  afterAll(async () => {
    await app?.close();
    await influxd?.stop();
    rmSync(seeds, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses green power for a foreign site, a bad evidence id, a bad amount, and a purchase claimed twice', () => {
    expect(refused.map((r) => [r.status, r.field])).toEqual([
      [400, 'greenPower.0.siteId'],
      [400, 'greenPower.0.evidenceId'],
      [400, 'greenPower.0.mwh'],
      [400, 'greenPower.0.mwh'], // a certificate is a whole MWh
      [400, 'greenPower.1.evidenceId'],
      [409, 'greenPower.0.evidenceId'],
    ]);
    // nothing was stored by them
    expect(refused.every((r) => r.storedAfter === '{}')).toBe(true);
  });

  it('says "not declared" for a year with nothing renewable metered or declared, rather than a share of 0', () => {
    for (const kpi of ['renewable_share', 'renewable_share_generation'])
      expect(find(undeclared.year, kpi, YEAR)).toMatchObject({ value: null, undeclared: true });
    // its target exists (commissioned 2025, +10 points a year): the rule has something to compare, but no share
    expect(find(undeclared.year, 'renewable_share_target', YEAR)?.value).toBeCloseTo(0.1, 12);
    // a building with PV has a metered share, declared or not
    const b1 = find(undeclared.b1, 'renewable_share', YEAR)!;
    expect(b1.undeclared).toBe(false);
    expect(b1.value).toBeGreaterThan(0);
  });

  it("credits January with its contract and a twelfth of the year's, written again weeks later, by hand from the truth", () => {
    // by hand: 5,000 + 12,000 / 12 = 6,000 kWh of the data centre's C kWh of grid electricity (all of its energy),
    // whatever the coal equivalent: 6,000 / C, in January and in the year (January is all it has)
    const c = truth.sites['hd-dc1']!.days.reduce((s, d) => s + d.consumptionKwh, 0);
    expect(c).toBeGreaterThan(6000);
    for (const [list, kpi] of [
      [declared.month, 'renewable_share'],
      [declared.year, 'renewable_share'],
      [declared.year, 'renewable_share_generation'],
    ] as const) {
      const share = find(list, kpi, YEAR)!;
      expect(share.undeclared).toBe(false);
      expectWithin(share.value, 6000 / c, ratioTolerance(6000, 1e-9, c, registerTolerance()));
    }
    expectWithin(find(declared.month, 'green_power_kwh', YEAR)?.value, 6000, 1e-6);
    expectWithin(find(declared.year, 'green_power_kwh', YEAR)?.value, 6000, 1e-6);
  });

  it("files the year's and January's in the annual report: the certificates, and each contract with its evidence", () => {
    const carrier = (name: string) =>
      declared.report.energy.carriers.find((x) => x.carrier === name)!.quantity;
    expect(carrier('green_certificates')).toBe(5000);
    expect(carrier('green_power_contracts')).toBe(17_000);
    expect(declared.report.energy.greenPower).toEqual([
      { kind: 'contract', mwh: 12, evidenceId: 'BJ-GP-2026-0001', siteId: 'hd-dc1' },
      { kind: 'contract', mwh: 5, evidenceId: 'BJ-GP-2026-0002', siteId: 'hd-dc1' },
    ]);
  });

  it('takes a declaration of none as a share of 0: the organisation said it bought nothing', () => {
    expect(find(none, 'renewable_share', YEAR)).toMatchObject({ value: 0, undeclared: false });
    expect(find(none, 'green_power_kwh', YEAR)).toMatchObject({ value: 0 });
  });
});
