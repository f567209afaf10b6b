import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeSiteKpis } from '@peakwatch/analytics';
import { loadConfig, type AppConfig } from '@peakwatch/config';
import { MEASUREMENTS } from '@peakwatch/contracts';
import { HistoryImports, Retention, type RetentionPlan } from '@peakwatch/history';
import { RetentionScheduler } from '@peakwatch/reports';
import { Registry as MetricsRegistry } from 'prom-client';
import type { InfluxClient } from '@peakwatch/influx';
import { KpiWriter, kpiFactorsFor, type KpiValue } from '@peakwatch/metering';
import { loadPolicyData, type PolicyData } from '@peakwatch/policy';
import { loadRegistry, type Registry } from '@peakwatch/registry';
import {
  ReportService,
  computeReport,
  evidenceBundle,
  evidenceFiles,
  readReportSources,
  verifyBundle,
  type Report,
} from '@peakwatch/reporting';
import { Clock } from '@peakwatch/runtime';
import { JobLeases, StateStore } from '@peakwatch/state';
import { ROOT, buildDist, runCliJson } from '../support/build';
import { DAY, HOUR, beijingMidnight } from '../support/calendar';
import { startInfluxd, type TestInfluxd } from '../support/influxd';
import { testDatabaseUrl } from '../support/postgres';

const QUARTER = 900_000;
const FROM = beijingMidnight('2023-01-01');
const TO = beijingMidnight('2026-01-01');
/** The retention job's first run, then its run once the warning (30 days) has passed. */
const FIRST_RUN = beijingMidnight('2026-02-10');
const RUN = FIRST_RUN + 31 * DAY;
/** A run when the snapshots of 2023 have had their six years after the end of 2023 (1 January 2030). */
const LATE_RUN = beijingMidnight('2030-01-15');
const ORG = 'r-org';

/**
 * Three years of four meters, with what makes booking hard at month boundaries: a silence across the end of March
 * 2023, a register that wraps (modulus 100,000 kWh, about every two weeks), a meter replaced mid-month, a reading
 * that jumps implausibly, three days of silence across the end of June 2024, and a month of a meter known only from an
 * import batch.
 */
const SITES = {
  'r-a': [
    'type: office',
    'floorAreaM2: 20000',
    `emitter: { id: ${ORG}, name: Retention Org, keyEmitter: true }`,
    'devices:',
    '  - { id: a-grid, kind: electricity_meter, role: grid, ratedPowerKw: 800, registerModulusKwh: 100000, readingIntervalSeconds: 900 }',
    '  - { id: a-pv, kind: pv_inverter, role: pv, ratedPowerKw: 200, peakPowerKwp: 200, readingIntervalSeconds: 900 }',
  ],
  'r-b': [
    'type: office',
    'floorAreaM2: 10000',
    'baseline: { year: 2023, energyKwhPerM2: 90 }',
    'devices:',
    '  - { id: b-grid, kind: electricity_meter, role: grid, ratedPowerKw: 800, readingIntervalSeconds: 900 }',
  ],
  'r-c': [
    'type: office',
    'floorAreaM2: 8000',
    'devices:',
    '  - { id: c-grid, kind: electricity_meter, role: grid, ratedPowerKw: 800, readingIntervalSeconds: 900 }',
  ],
} as const;
const SITE_OF: Record<string, keyof typeof SITES> = {
  'a-grid': 'r-a',
  'a-pv': 'r-a',
  'b-grid': 'r-b',
  'c-grid': 'r-c',
};
const KIND: Record<string, string> = { 'a-pv': 'pv_inverter' };
const ROLE: Record<string, string> = { 'a-pv': 'pv' };
const SILENT: Record<string, [number, number][]> = {
  'a-grid': [[beijingMidnight('2023-04-01') - 4 * HOUR, beijingMidnight('2023-04-01') + 4 * HOUR]],
  'b-grid': [[beijingMidnight('2024-06-29'), beijingMidnight('2024-07-02')]],
};
const REPLACED_AT = beijingMidnight('2024-02-15') + 10 * HOUR + 7 * 60_000;
const JUMP_AT = beijingMidnight('2024-10-10') + 12 * HOUR;
const IMPORTED = { device: 'a-pv', from: beijingMidnight('2024-08-01'), to: beijingMidnight('2024-09-01') };
const BATCH = 'imp-20250101-0a1b2c3d';

/** A meter's power at `t` (kW): an office's day curve, each meter its own scale. */
function kw(device: string, t: number): number {
  const hour = ((t + 8 * HOUR) % DAY) / HOUR;
  const day = Math.max(0, Math.sin(((hour - 6) / 12) * Math.PI));
  if (device === 'a-pv') return 150 * day;
  const scale = { 'a-grid': 400, 'b-grid': 250, 'c-grid': 180 }[device]!;
  return scale * (0.3 + 0.7 * day);
}

/** The line protocol of every reading and meter event of the three years. */
function* history(): Generator<string> {
  for (const device of Object.keys(SITE_OF)) {
    const site = SITE_OF[device]!;
    const tags = `device=${device},district=haidian,kind=${KIND[device] ?? 'electricity_meter'},role=${ROLE[device] ?? 'grid'},site=${site}`;
    const metric = device === 'a-pv' ? 'energy_export_kwh' : 'energy_import_kwh';
    let register = 1000;
    /** c-grid's old register at its replacement: the new one counts from 0 there. */
    let final: number | undefined;
    for (let t = FROM; t <= TO; t += QUARTER) {
      const previous = register;
      register += kw(device, t) / 4;
      if (device === 'c-grid' && final === undefined && t > REPLACED_AT) {
        final = previous + (kw(device, t) * (REPLACED_AT - (t - QUARTER))) / HOUR;
        yield `${MEASUREMENTS.meterEvent},${tags},type=replacement final_${metric}=${final},start_${metric}=0 ${REPLACED_AT}`;
      }
      if (SILENT[device]?.some(([a, b]) => t > a && t < b)) continue;
      let value = device === 'a-grid' ? register % 100_000 : register - (final ?? 0);
      if (device === 'c-grid' && t === JUMP_AT) value += 50_000;
      const batch =
        device === IMPORTED.device && t >= IMPORTED.from && t < IMPORTED.to ? `,batch=${BATCH}` : '';
      yield `${MEASUREMENTS.telemetry},${tags}${batch} ${metric}=${value.toFixed(3)},power_kw=${kw(device, t).toFixed(2)} ${t}`;
    }
  }
}

describe('retention', () => {
  let influxd: TestInfluxd;
  let influx: InfluxClient;
  let state: StateStore;
  let dir: string;
  let config: AppConfig;
  let registry: Registry;
  let policy: PolicyData;
  let retention: Retention;
  const before = new Map<string, KpiValue[]>();
  const after = new Map<string, KpiValue[]>();
  const counts: Record<string, Record<string, number>> = {};
  const seen: {
    firstRun?: RetentionPlan;
    metrics?: string;
    cli?: RetentionPlan;
    run?: RetentionPlan;
    lateRun?: RetentionPlan;
    reportBefore?: Report;
    reportAfter?: Report;
    verified?: Awaited<ReturnType<typeof verifyBundle>>;
    bundlePaths?: string[];
    importRefused?: string[];
    snapshots2023?: number;
  } = {};

  /** Raw readings of a device in a month (`YYYY-MM`, Beijing). */
  const rawIn = async (device: string, month: string): Promise<number> => {
    const from = beijingMidnight(`${month}-01`);
    const [y, m] = month.split('-').map(Number);
    const to = beijingMidnight(
      `${m === 12 ? y! + 1 : y}-${String(m === 12 ? 1 : m! + 1).padStart(2, '0')}-01`,
    );
    const series = await influx.query(
      `SELECT count(power_kw) FROM ${MEASUREMENTS.telemetry} WHERE device = '${device}' AND time >= ${from}ms AND time < ${to}ms`,
    );
    return (series[0]?.rows[0]?.['count'] as number | undefined) ?? 0;
  };
  const MONTHS = [
    '2023-01',
    '2023-03',
    '2023-04',
    '2023-06',
    '2024-02',
    '2024-05',
    '2024-06',
    '2024-08',
    '2025-06',
  ];

  /** Every site's KPIs: days over the three years, hours and quarters around the month boundaries of the gaps. */
  const kpis = async (into: Map<string, KpiValue[]>): Promise<void> => {
    const factors = kpiFactorsFor(policy, 2024);
    const ranges = [
      ['1d', FROM, TO],
      ['1h', beijingMidnight('2023-03-25'), beijingMidnight('2023-04-05')],
      ['15m', beijingMidnight('2024-06-30') - DAY, beijingMidnight('2024-07-01') + DAY],
      ['1h', beijingMidnight('2024-02-14'), beijingMidnight('2024-02-16')],
    ] as const;
    for (const siteId of Object.keys(SITES))
      for (const [period, fromMs, toMs] of ranges)
        into.set(
          `${siteId} ${period} ${fromMs}`,
          await computeSiteKpis({
            influx,
            registry,
            siteId,
            fromMs,
            toMs,
            period,
            utcOffsetMs: 8 * HOUR,
            factors,
          }),
        );
  };
  const annualReport = async (): Promise<{
    report: Report;
    sources: Awaited<ReturnType<typeof readReportSources>>;
  }> => {
    const sources = await readReportSources({
      influx,
      registry,
      policy,
      orgId: ORG,
      period: '2024',
      timeZone: 'Asia/Shanghai',
    });
    const evidence = evidenceFiles(sources);
    return {
      report: computeReport({
        sources,
        period: '2024',
        timeZone: 'Asia/Shanghai',
        evidenceSha256: evidence.sha256,
      }),
      sources,
    };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'peakwatch-retention-'));
    const seeds = join(dir, 'seeds');
    mkdirSync(join(seeds, 'sites'), { recursive: true });
    for (const data of ['policy', 'emission-factors', 'tariffs', 'alert-rules'])
      cpSync(join(ROOT, 'seeds', data), join(seeds, data), { recursive: true });
    for (const [id, lines] of Object.entries(SITES))
      writeFileSync(
        join(seeds, 'sites', `${id}.yaml`),
        [
          `id: ${id}`,
          `name: Site ${id}`,
          'district: haidian',
          "commissionedOn: '2015-01-01'",
          ...lines,
          '',
        ].join('\n'),
      );
    buildDist();
    influxd = await startInfluxd();
    influx = await influxd.client('retention');
    const databaseUrl = await testDatabaseUrl();
    const env = {
      INFLUX_URL: influxd.url,
      INFLUX_DATABASE: 'retention',
      DATA_DIR: dir,
      SEEDS_DIR: seeds,
      LOG_LEVEL: 'silent',
      REPORT_ENDPOINTS: `org:${ORG}=http://127.0.0.1:9/reports`,
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    };
    config = loadConfig(env, ROOT);
    registry = loadRegistry(join(seeds, 'sites'));
    policy = loadPolicyData(seeds);
    state = await StateStore.open(config.stateStore);
    const clock = Clock.startingAt(FIRST_RUN);
    retention = new Retention({ config, influx, registry, state, clock });

    const writer = new KpiWriter(influx);
    for (const l of history()) await writer.add([l]);
    await writer.close();

    // June 2023 of the organisation submitted (queued for its receiver); an alert of r-c open since June 2025
    await new ReportService(config, influx, registry, policy, state, clock).generate(ORG, '2023-06');
    await state.db
      .insertInto('alert_state')
      .values({
        rule_id: 'device-silent',
        entity: 'c-grid',
        site_id: 'r-c',
        state: 'firing',
        since: new Date(beijingMidnight('2025-06-01')).toISOString(),
        episode: 1,
        value: null,
        acked_at: null,
        acked_by: null,
        escalated_at: null,
      })
      .execute();

    const countAll = async (suffix: string) => {
      for (const device of Object.keys(SITE_OF)) {
        const byMonth: Record<string, number> = {};
        for (const month of MONTHS) byMonth[month] = await rawIn(device, month);
        counts[`${device}${suffix}`] = byMonth;
      }
    };
    await countAll('');
    await kpis(before);
    seen.reportBefore = (await annualReport()).report;

    // the first run as the reports app makes it: its warning in the log and in /metrics
    const metrics = new MetricsRegistry();
    seen.firstRun = await new RetentionScheduler(
      config,
      influx,
      registry,
      state,
      clock,
      new JobLeases(state, () => clock.now(), { ttlMs: 60_000, renewMs: 10_000 }),
      metrics,
    ).scheduled(FIRST_RUN);
    seen.metrics = await metrics.metrics();
    // the operator's preview of the run to come
    seen.cli = runCliJson<RetentionPlan>(
      ['retention', '--at', new Date(RUN).toISOString(), '--json'],
      env,
    ).json;
    seen.run = await retention.run(RUN);

    await kpis(after);
    const { report, sources } = await annualReport();
    seen.reportAfter = report;
    const evidence = evidenceFiles(sources);
    seen.bundlePaths = [...evidence.files.keys()];
    seen.verified = await verifyBundle(
      await evidenceBundle(report, evidence, {
        layout: report.evidence.layout,
        peakwatchVersion: 'test',
        organisation: ORG,
        period: '2024',
        version: 1,
        createdAt: new Date(RUN).toISOString(),
      }),
      'test',
    );
    await countAll(' after');

    // an import into a down-sampled month is refused row by row
    const file = join(dir, 'late.csv');
    writeFileSync(
      file,
      `site,device,ts,metric,value\nr-c,c-grid,2024-03-05T10:00:00+08:00,energy_import_kwh,1\n`,
    );
    const imports = new HistoryImports({ config, influx, registry, policy, state, clock });
    seen.importRefused = (await imports.plan({ path: file })).plan.rejections.map((r) => r.reason);

    seen.lateRun = await retention.run(LATE_RUN);
    const snapshots = await influx.query(
      `SELECT count(readings) FROM ${MEASUREMENTS.telemetryQuarter} WHERE time >= ${FROM}ms AND time < ${beijingMidnight('2024-01-01')}ms`,
    );
    seen.snapshots2023 = (snapshots[0]?.rows[0]?.['count'] as number | undefined) ?? 0;
  }, 600_000);

  afterAll(async () => {
    await state?.close();
    await influxd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('removes nothing until the warning has run its course after the first run, and announces it', () => {
    expect(seen.firstRun!.due).toEqual([]);
    // a-grid's and a-pv's 24 months, b-grid's 13, c-grid's 16 (below), due 30 days after the first run
    expect(seen.metrics).toContain('peakwatch_retention_upcoming_months 77\n');
    expect(seen.metrics).toContain(`peakwatch_retention_next_due_seconds ${(FIRST_RUN + 30 * DAY) / 1000}\n`);
    // kept: June 2023 of a-grid and a-pv, b-grid's 2023, c-grid's May 2024 to January 2025
    expect(seen.metrics).toContain('peakwatch_retention_kept_months 23\n');
    // 3 years less the last 400 days: every month of 2023 and 2024 of the four meters, bar those kept, announced
    const announced = seen.firstRun!.upcoming.filter((m) => m.action === 'downsample');
    expect(announced.length).toBe(seen.run!.due.length);
    for (const m of announced) expect(m.dueMs).toBe(FIRST_RUN + 30 * DAY);
  });

  it('down-samples the months older than RETENTION_RAW_DAYS, keeping those behind a submitted report, a baseline year or an open alert', () => {
    const months = (device: string) => seen.run!.due.filter((m) => m.deviceId === device).map((m) => m.month);
    // 400 days before the run (13 March 2026) is 6 February 2025: every month to January 2025 is due
    // a-grid and a-pv: 2023, 2024 and January 2025 but June 2023, of a submitted report of their site
    expect(months('a-grid')).toHaveLength(11 + 12 + 1);
    expect(months('a-pv')).toHaveLength(11 + 12 + 1);
    expect(months('a-grid')).not.toContain('2023-06');
    // b-grid: from 2024 (2023 is its baseline year); c-grid: until April 2024 (an alert open since 1 June 2025
    // keeps the 366 days before it, from 31 May 2024)
    expect(months('b-grid')).toEqual([
      ...Array.from({ length: 12 }, (_, i) => `2024-${String(i + 1).padStart(2, '0')}`),
      '2025-01',
    ]);
    expect(months('c-grid')).toHaveLength(12 + 4);
    expect(months('c-grid')).not.toContain('2024-05');
    const kept = (device: string, month: string) =>
      seen.run!.kept.find((m) => m.deviceId === device && m.month === month)?.reasons;
    expect(kept('a-grid', '2023-06')).toEqual([`report ${ORG} 2023-06 submitted`]);
    expect(kept('b-grid', '2023-02')).toEqual(['baseline year 2023']);
    // `peakwatch retention --at` showed exactly this beforehand
    const listed = (plan: RetentionPlan['due']) => plan.map((m) => `${m.deviceId} ${m.month} ${m.action}`);
    expect(listed(seen.cli!.due)).toEqual(listed(seen.run!.due));
    expect(seen.cli!.kept).toEqual(seen.run!.kept);
    expect(kept('c-grid', '2024-05')).toEqual(['alert device-silent open since 2025-05-31T16:00:00.000Z']);
  });

  it('deletes the raw readings of the months down-sampled, and no other', () => {
    // 30 days of quarters in June, less nothing: 2,880 readings; its neighbours down-sampled to nothing
    expect(counts['a-grid']!['2023-06']).toBe(30 * 96);
    expect(counts['a-grid after']!['2023-06']).toBe(30 * 96);
    expect(counts['a-grid after']!['2023-01']).toBe(0);
    expect(counts['a-grid after']!['2025-06']).toBe(counts['a-grid']!['2025-06']);
    expect(counts['b-grid after']!['2023-03']).toBe(31 * 96);
    expect(counts['b-grid after']!['2024-06']).toBe(0);
    expect(counts['c-grid after']!['2024-02']).toBe(0);
    expect(counts['c-grid after']!['2024-05']).toBe(counts['c-grid']!['2024-05']);
    expect(counts['c-grid after']!['2024-06']).toBe(counts['c-grid']!['2024-06']);
    expect(counts['a-pv after']!['2024-08']).toBe(0);
  });

  it('computes every KPI from the down-sampled months exactly as from the raw readings', () => {
    expect(after.size).toBe(before.size);
    let windows = 0;
    for (const [key, values] of before) {
      expect({ key, values: after.get(key) }).toEqual({ key, values });
      windows += values.length;
    }
    // the ranges held values: days of three years per site, and the gaps' hours and quarters
    expect(windows).toBeGreaterThan(3 * 1096);
    const day = (site: string, date: string) =>
      before
        .get(`${site} 1d ${FROM}`)!
        .find((k) => k.windowStartMs === beijingMidnight(date) && k.kpi === 'grid_import_kwh' && !k.category);
    // a day of a down-sampled month has its energy: b-grid's day curve, 250 kW × (0.3 × 24 h + 0.7 × 12 h × 2/π)
    expect(day('r-b', '2024-03-05')?.value).toBeCloseTo(250 * (0.3 * 24 + (0.7 * 12 * 2) / Math.PI), -1);
  });

  it("computes the organisation's annual report from the down-sampled year as from the raw one, and verifies it from its bundle", () => {
    const figures = (r: Report) => ({
      ...r,
      contentHash: undefined,
      evidence: undefined,
    });
    expect(figures(seen.reportAfter!)).toEqual(figures(seen.reportBefore!));
    expect(seen.bundlePaths).toEqual(
      expect.arrayContaining(['downsampled/r-a/a-grid.jsonl', 'quarters/r-a/a-grid.jsonl']),
    );
    expect(seen.reportBefore!.evidence.layout).toBe('peakwatch-evidence/1');
    expect(seen.reportAfter!.evidence.layout).toBe('peakwatch-evidence/2');
    expect(seen.verified!.problems).toEqual([]);
    expect(seen.verified!.match).toBe(true);
  });

  it('refuses an import into a down-sampled month', () => {
    expect(seen.importRefused).toEqual(['month_downsampled']);
  });

  it('removes the snapshots six years after the end of their year, never those kept', async () => {
    const expired = seen.lateRun!.due.filter((m) => m.action === 'expire');
    expect(expired.map((m) => m.month).every((m) => m.startsWith('2023-'))).toBe(true);
    // a-grid's and a-pv's 11 months of 2023 (June kept), c-grid's 12; b-grid's baseline year was never down-sampled
    expect(expired).toHaveLength(11 + 11 + 12);
    expect(seen.snapshots2023).toBe(0);
    expect(await rawIn('a-grid', '2023-06')).toBe(30 * 96);
    expect(await rawIn('b-grid', '2023-03')).toBe(31 * 96);
  });
});
