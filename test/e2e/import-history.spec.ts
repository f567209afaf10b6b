import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { KpiCron } from '@peakwatch/analytics';
import type { AppConfig } from '@peakwatch/config';
import { METRICS, type MetricName } from '@peakwatch/contracts';
import { Simulation, generate, loadScenario } from '@peakwatch/device-sim';
import { intField, line, type InfluxClient } from '@peakwatch/influx';
import { readKpis, type StoredKpi } from '@peakwatch/metering';
import { loadPolicyData } from '@peakwatch/policy';
import { loadRegistry } from '@peakwatch/registry';
import type { Report } from '@peakwatch/reporting';
import { Clock } from '@peakwatch/runtime';
import { CLI, ROOT, buildDist, runCliJson } from '../support/build';
import { DAY, HOUR, beijingMidnight } from '../support/calendar';
import { startInfluxd, type TestInfluxd } from '../support/influxd';
import { kpiSnapshot } from '../support/kpi-snapshot';
import { testConfig } from '../support/ingest';
import { testDatabaseUrl } from '../support/postgres';
import { childEnv, clockAt } from '../support/processes';
import { CAMPUS_CONSUMPTION, expectWithin, pueTolerance, registerTolerance } from '../support/tolerance';

const SEEDS = join(ROOT, 'seeds');
/**
 * The year imported, chosen by the spec: 2025 in Beijing. The KPI job runs at 10:00 on 1 January 2026, so that the
 * windows the import's last reading (midnight) touches were computed before it as well.
 */
const YEAR = beijingMidnight('2025-01-01');
const NEXT_YEAR = beijingMidnight('2026-01-01');
const NOW = NEXT_YEAR + 10 * HOUR;
const SITES = ['hd-b1', 'hd-b2', 'hd-b3', 'hd-dc1'];
const BUILDINGS = ['hd-b1', 'hd-b2', 'hd-b3'];

interface WindowTruth {
  window: string;
  consumptionKwh: number;
  gridImportKwh: number;
  gasM3?: number;
  purchasedHeatKwh?: number;
  pue?: number | null;
}
interface Truth {
  sites: Record<string, { months: WindowTruth[]; years: WindowTruth[] }>;
}

/** A spreadsheet date is a wall-clock time: Beijing's, written with the UTC fields of a Date. */
const wallClock = (ms: number): Date => new Date(ms + 8 * HOUR);

/**
 * The end-to-end case: a year of the sample campus from the simulator (every meter's registers read at
 * midnight, as a meter's memory or a monthly export keeps them), the buildings written to CSV and the data centre to
 * XLSX, imported with the command line into the real influxd; the KPI job computes the year, which equals the
 * simulator's ground truth, and the annual report is restated with it; rolling both batches back returns every KPI
 * to what it was and the report to its first content.
 */
describe('a year of history imported from CSV and XLSX, and rolled back', () => {
  let influxd: TestInfluxd;
  let influx: InfluxClient;
  let config: AppConfig;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let truth: Truth;
  let job: KpiCron;
  let before: string[];
  let firstReport: Report;
  const batches: string[] = [];
  /** What each step of the beforeAll left, in order (the tests run in any order and only look). */
  const seen = {} as {
    dryRun: SpawnSyncReturns<string>;
    applied: SpawnSyncReturns<string>[];
    listed: string;
    years: StoredKpi[];
    months: StoredKpi[];
    report: Report;
    rollbacks: SpawnSyncReturns<string>[];
    kpisAfterRollback: string[];
    reportAfterRollback: Report;
    telemetryAfterRollback: number;
    reference: string[];
  };
  const clock = Clock.startingAt(NOW);
  const registry = loadRegistry(join(SEEDS, 'sites'));
  const policy = loadPolicyData(SEEDS);
  let rows = 0;
  let csvRows = 0;

  const cli = (args: string[]): SpawnSyncReturns<string> =>
    spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', env: childEnv(env) });
  const annualReport = (): Report =>
    runCliJson<Report>(['report', '--org', 'hd-tech-campus', '--year', '2025', '--json'], env).json;

  beforeAll(async () => {
    buildDist();
    influxd = await startInfluxd();
    influx = await influxd.client('history');
    dataDir = await mkdtemp(join(tmpdir(), 'peakwatch-history-'));
    config = await testConfig(influxd.url, 'history', dataDir);
    const databaseUrl = await testDatabaseUrl();
    env = {
      INFLUX_URL: influxd.url,
      INFLUX_DATABASE: 'history',
      SEEDS_DIR: SEEDS,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      // the command line's clock is the spec's: the same day on any date of the run
      ...clockAt(NOW),
    };

    // the campus without its faults, stepped hourly (a year in seconds); the registers of every midnight are kept
    const scenario = {
      ...loadScenario(join(SEEDS, 'scenarios/haidian-campus.yaml')),
      faults: [],
      intervalSeconds: 3600,
    };
    const simulation = new Simulation(scenario, { seed: 11, fromMs: YEAR });
    const csv = ['site,device,ts,metric,value'];
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('readings');
    sheet.addRow(['site', 'device', 'ts', 'metric', 'value']);
    for (const item of generate(simulation, NEXT_YEAR)) {
      if (item.type !== 'reading' || (item.reading.ts - YEAR) % DAY !== 0) continue;
      for (const [metric, value] of Object.entries(item.reading.values)) {
        if (!METRICS[metric as MetricName].cumulative) continue;
        rows++;
        if (BUILDINGS.includes(item.siteId) && ++csvRows)
          csv.push(
            `${item.siteId},${item.deviceId},${new Date(item.reading.ts + 8 * HOUR).toISOString().slice(0, 19)}+08:00,${metric},${value}`,
          );
        else sheet.addRow([item.siteId, item.deviceId, wallClock(item.reading.ts), metric, value]);
      }
    }
    truth = simulation.truth.build(NEXT_YEAR) as Truth;
    await writeFile(join(dataDir, 'campus-2025.csv'), `${csv.join('\n')}\n`);
    await workbook.xlsx.writeFile(join(dataDir, 'dc-2025.xlsx'));

    // before: the job's run of that morning and the report of 2025 with no reading of it
    job = new KpiCron(
      config,
      influx,
      loadRegistry(join(SEEDS, 'sites')),
      loadPolicyData(SEEDS),
      undefined,
      clock,
    );
    await job.runOnce(clock.now());
    before = await kpiSnapshot(influx);
    firstReport = annualReport();

    // the dry run, then both files written with the command line
    const reason = ['--reason', 'baseline year from the old system'];
    seen.dryRun = cli(['import', join(dataDir, 'campus-2025.csv'), ...reason]);
    seen.applied = [
      cli(['import', join(dataDir, 'campus-2025.csv'), ...reason, '--apply']),
      cli(['import', join(dataDir, 'dc-2025.xlsx'), '--tz', 'Asia/Shanghai', ...reason, '--apply']),
    ];
    batches.push(...seen.applied.map((run) => run.stdout.trim().split('\n').at(-1)!));
    seen.listed = cli(['import', 'list']).stdout;
    // the KPI job's next run, and the year as the API and the dashboards read it
    await job.runOnce(clock.now());
    seen.years = await readKpis(influx, { scope: 'site', period: '1y', fromMs: YEAR, toMs: YEAR + 1 });
    seen.months = await readKpis(influx, { scope: 'site', period: '1mo', fromMs: YEAR, toMs: NEXT_YEAR });
    seen.report = annualReport();

    // both rolled back, newest first, and the job's next run
    seen.rollbacks = [...batches].reverse().map((id) => cli(['import', 'rollback', id]));
    await job.runOnce(clock.now());
    seen.kpisAfterRollback = await kpiSnapshot(influx);
    seen.reportAfterRollback = annualReport();
    seen.telemetryAfterRollback = (await influx.query('SELECT count(*) FROM telemetry')).length;

    // the reference: what the job computes for the same windows from the readings as they were before the imports
    // (none), in a database of its own that never held a reading of the batches
    const reference = await influxd.client('reference');
    const referenceJob = new KpiCron(config, reference, registry, policy, undefined, clock);
    await referenceJob.runOnce(clock.now());
    const fields = ['earliest_ms', 'latest_ms', 'readings', 'fine_from_ms'];
    const marks = (await influx.query(`SELECT ${fields.join(', ')} FROM ingest_late GROUP BY *`)).flatMap(
      (series) =>
        series.rows.map((r) =>
          line(
            'ingest_late',
            series.tags,
            Object.fromEntries(fields.filter((f) => r[f] !== null).map((f) => [f, intField(r[f] as number)])),
            r['time'] as number,
          ),
        ),
    );
    expect(marks.length).toBeGreaterThan(0);
    const write = reference.createWriteApi();
    write.writeRecords(marks);
    await write.close();
    await referenceJob.runOnce(clock.now());
    seen.reference = await kpiSnapshot(reference);
  }, 600_000);
  afterAll(async () => {
    await influxd?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('prints the dry run, writes nothing without --apply, and prints the batch id alone on the last line', () => {
    expect(seen.dryRun.stderr).not.toMatch(/peakwatch:|Error/);
    expect(seen.dryRun.status).toBe(0);
    expect(seen.dryRun.stdout).toContain(`rows: ${csvRows} read, ${csvRows} accepted, 0 refused`);
    // its progress on standard error (not a terminal here: JSON lines), the last one with every row read
    const progressOf = (stderr: string): { task: string; unit: string; done: number; perSecond: number }[] =>
      stderr
        .split('\n')
        .filter((l) => l.startsWith('{"msg":"progress"'))
        .map((l) => JSON.parse(l) as { task: string; unit: string; done: number; perSecond: number });
    const progress = progressOf(seen.dryRun.stderr);
    expect(progress.at(-1)).toMatchObject({ task: 'import', unit: 'rows', done: csvRows });
    expect(progress.at(-1)!.perSecond).toBeGreaterThan(0);
    // with --apply, the write's too: the last line has every point of the file (one per row of register readings)
    const writing = progressOf(seen.applied[0]!.stderr).filter((p) => p.task === 'import write');
    expect(writing.at(-1)).toMatchObject({ unit: 'points', done: csvRows, total: csvRows, percent: 100 });
    expect(writing.at(-1)!.perSecond).toBeGreaterThan(0);
    expect(seen.dryRun.stdout).toMatch(/report hd-tech-campus 2025: version 1 would be restated/);
    expect(seen.dryRun.stdout.trim().split('\n').at(-1)).toBe(
      'dry run: nothing was written (--apply writes it)',
    );
    for (const run of seen.applied) {
      expect(run.stderr).not.toMatch(/peakwatch:|Error/);
      expect(run.status).toBe(0);
    }
    expect(batches).toHaveLength(2);
    for (const id of batches) {
      expect(id).toMatch(/^imp-\d{8}-[0-9a-f]{8}$/);
      expect(seen.listed).toContain(id);
    }
    // 366 midnights (1 January 2025 to 1 January 2026) of every register of the campus's meters
    expect(rows % 366).toBe(0);
    expect(seen.applied[1]!.stdout).toContain(`rows: ${rows - csvRows} read, ${rows - csvRows} accepted`);
  });

  const kpi = (list: StoredKpi[], site: string, name: string, startMs: number): StoredKpi => {
    const found = list.find(
      (k) => k.entity === site && k.kpi === name && !k.category && k.windowStartMs === startMs,
    );
    if (!found) throw new Error(`no ${name} of ${site} at ${new Date(startMs).toISOString()}`);
    return found;
  };
  const yearTruth = (site: string): WindowTruth => truth.sites[site]!.years.find((y) => y.window === '2025')!;

  it.each(SITES)("%s: the year's and every month's energy equal the ground truth", (site) => {
    expectWithin(
      kpi(seen.years, site, 'energy_kwh', YEAR).value,
      yearTruth(site).consumptionKwh,
      CAMPUS_CONSUMPTION[site]!,
    );
    const truthMonths = truth.sites[site]!.months.filter((m) => m.window.startsWith('2025'));
    expect(truthMonths).toHaveLength(12);
    for (const m of truthMonths)
      expectWithin(
        kpi(seen.months, site, 'energy_kwh', beijingMidnight(`${m.window}-01`)).value,
        m.consumptionKwh,
        CAMPUS_CONSUMPTION[site]!,
      );
  });

  it("gives the data centre's PUE of the year from its two registers", () => {
    const year = yearTruth('hd-dc1');
    expectWithin(
      kpi(seen.years, 'hd-dc1', 'pue', YEAR).value,
      year.pue!,
      pueTolerance(year.consumptionKwh, year.pue!),
    );
  });

  it('restated the annual report with the imported year: grid electricity, gas and purchased heat of the truth', () => {
    expect(firstReport.energy.carriers.find((c) => c.carrier === 'grid_electricity')!.quantity).toBe(0);
    const carrier = (name: string): number =>
      seen.report.energy.carriers.find((c) => c.carrier === name)!.quantity;
    // by hand: the four supply meters' imports (b2's behind its 20:1 CT), each to its register's resolution
    const grid = SITES.reduce((sum, site) => sum + yearTruth(site).gridImportKwh, 0);
    expectWithin(carrier('grid_electricity'), grid, registerTolerance({ ctRatio: 23 }) + 0.002);
    expectWithin(carrier('natural_gas'), yearTruth('hd-b3').gasM3!, registerTolerance() + 0.0005);
    expectWithin(
      carrier('purchased_heat'),
      yearTruth('hd-b3').purchasedHeatKwh!,
      registerTolerance() + 0.0005,
    );
    // each meter line names the batch its readings came from: the buildings' the CSV's, the data centre's the XLSX's
    for (const m of seen.report.meters)
      expect([m.deviceId, m.batches]).toEqual([m.deviceId, [batches[m.siteId === 'hd-dc1' ? 1 : 0]]]);
    expect(kpi(seen.years, 'hd-dc1', 'energy_kwh', YEAR).batches).toEqual([batches[1]]);
  });

  it('rolled both batches back: every KPI returned to what it was, and the report to its first content', () => {
    for (const [i, run] of seen.rollbacks.entries()) {
      expect(run.stderr).not.toMatch(/peakwatch:|Error/);
      expect(run.status).toBe(0);
      expect(run.stdout).toContain(`import ${[...batches].reverse()[i]}`);
    }
    expect(seen.telemetryAfterRollback).toBe(0);
    // every window the batches touched holds what the job computes from the readings without them (the windows of
    // 2025 with nothing, 1 January 2026's meter completeness over the days since computed): no value of theirs
    // lingers, and none is lost
    expect(seen.kpisAfterRollback).toEqual(seen.reference);
    expect(before.length).toBeGreaterThan(0);
    expect(seen.reportAfterRollback.contentHash).toBe(firstReport.contentHash);
  });
});
