import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { KpiCron } from '@peakwatch/analytics';
import { LANGUAGES } from '@peakwatch/contracts';
import { kpiLine } from '@peakwatch/metering';
import { dashboardQueries, dashboards } from '@peakwatch/dashboards';
import { loadScenario } from '@peakwatch/device-sim';
import type { InfluxClient } from '@peakwatch/influx';
import { loadPolicyData } from '@peakwatch/policy';
import { loadRegistry } from '@peakwatch/registry';
import { copySeeds, SEEDS } from '../support/seeds';
import { startInfluxd, type TestInfluxd } from '../support/influxd';
import { Clock } from '@peakwatch/runtime';
import { DAY, HOUR, beijingMidnight } from '../support/calendar';
import { backfill, startIngest, type TestIngest } from '../support/ingest';
import { expectPanelRows, grafanaQuery } from '../support/grafana';

/**
 * The simulated period: Tuesday 13 and Wednesday 14 January 2026, in the heating season, so that the heat pumps
 * run and the heat-pump panels have values.
 */
const FROM = beijingMidnight('2026-01-13');
const SITES = ['hd-b1', 'hd-b2', 'hd-b3', 'hd-dc1'];

/**
 * Grafana does not run here, so its queries are proved against the real influxd: after a two-day simulator backfill
 * through the real broker and ingest, and a run of the KPI job, every panel's InfluxQL (template variables substituted
 * as Grafana does for a multi-value "All") runs and returns rows with the columns the panel expects.
 */
describe('Grafana dashboards: every query against the real influxd', () => {
  // The sample data centre, commissioned after Haidian's plan, so that its renewable trajectory applies.
  const seeds = copySeeds({
    'sites/hd-dc1.yaml': [["commissionedOn: '2021-06-01'", "commissionedOn: '2025-01-01'"]],
  });
  let influxd: TestInfluxd;
  let ingest: TestIngest;
  let influx: InfluxClient;
  const fromMs = FROM;
  /** The product's clock: 10:00 on the day after the period. */
  const clock = Clock.startingAt(FROM + 3 * DAY + 10 * HOUR);

  beforeAll(async () => {
    influxd = await startInfluxd();
    ingest = await startIngest(influxd, 'grafana', { SEEDS_DIR: seeds }, clock);
    influx = await influxd.client('grafana');
    await backfill({
      scenario: loadScenario(join(seeds, 'scenarios/haidian-campus.yaml')),
      seed: 5,
      fromMs,
      toMs: fromMs + 2 * DAY,
      brokerUrl: ingest.mqttUrl,
      credentials: await ingest.secrets(),
      httpPort: ingest.config.http.port,
      clock,
    });
    await new KpiCron(
      ingest.config,
      influx,
      loadRegistry(join(seeds, 'sites')),
      loadPolicyData(seeds),
    ).runOnce(clock.now());
    // One alert event in the shape of docs/contracts.md (the alerts service writes them).
    const writeApi = influx.createWriteApi({ flushInterval: 0, maxRetries: 0 });
    writeApi.writeRecord(
      `alert_event,district=haidian,rule=dc-pue-rolling,severity=critical,site=hd-dc1,state=firing title="PUE above 1.35",title_zh="PUE 高于 1.35",value=1.41,threshold=1.35 ${fromMs + DAY}`,
    );
    // One point of a district's standing in the shape the alerts service writes it (test/e2e/alerts.spec.ts checks that)
    writeApi.writeRecord(
      `standing,district=haidian,rule=dc-pue-rolling-new,site=hd-dc1 title="Rolling 12-month PUE above the limit",title_zh="滚动 12 个月 PUE 超过限值",threshold=1.3,state="firing",value=1.365,margin=0.05,completeness=0.97 ${fromMs + DAY}`,
    );
    // One incident at a site in the shape docs/contracts.md gives it (the alerts service writes them)
    writeApi.writeRecord(
      `incident,district=haidian,incident=inc-1,kind=gateway,cause=gw-hd-b1,site=hd-b1 state="open",members=2i,title="Gateway gw-hd-b1 offline",title_zh="网关 gw-hd-b1 离线" ${fromMs + DAY}`,
    );
    // One carbon-market position in the shape the reports service writes it (test/e2e/reports.spec.ts checks that)
    writeApi.writeRecord(
      `carbon_position,district=haidian,org=hd-tech-campus,year=2026 allowance_t=1000,to_date_t=210.5,projected_t=1250.25,surplus_t=-250.25,surplus_cny=-22522.5,warning=true,report_version=4i ${fromMs + DAY}`,
    );
    // The year's reductions against the baseline have a value only once a tenth of the year has elapsed
    // (docs/domain.md, "Projections"), not two weeks into January: the year 2025's, as the KPI job writes them.
    const year2025 = beijingMidnight('2025-01-01');
    for (const [name, value] of [
      ['energy_reduction', 0.061],
      ['energy_kgce_reduction', 0.052],
      ['co2_reduction', 0.074],
    ] as const)
      writeApi.writeRecord(
        kpiLine(
          {
            kpi: name,
            windowStartMs: year2025,
            value,
            numerator: 1 - value,
            denominator: 1,
            completeness: 0.97,
            estimated: false,
            estimatedShare: 0,
          },
          { scope: 'site', entity: 'hd-b1', period: '1y' },
        ),
      );
    await writeApi.close();
  });
  afterAll(async () => {
    await ingest?.close();
    await influxd?.stop();
    rmSync(seeds, { recursive: true, force: true });
  });

  /** What Grafana sends for "All" of a multi-value variable, the dashboard's time range and interval. */
  const substitute = (query: string): string =>
    grafanaQuery(query, {
      fromMs: fromMs - 400 * DAY,
      toMs: clock.now() + DAY,
      sites: SITES,
      districts: ['haidian'],
    });

  // the committed dashboards in both languages (the unit spec proves they are what this code generates), each query
  // once: the languages differ only in the title field of alerts, standings and incidents; the demand-response one is proved over a measured
  // event (demand-response.spec.ts)
  const boards = LANGUAGES.flatMap((language) =>
    Object.entries(dashboards(loadPolicyData(SEEDS), language))
      .filter(([file]) => file !== 'demand-response.json')
      .map(([file, board]) => [`${language}/${file}`, board] as const),
  );
  const seen = new Set<string>();
  const cases = boards
    .flatMap(([file, board]) => dashboardQueries(board).map((q) => [`${file}: ${q.name}`, q.query] as const))
    .filter(([, query]) => !seen.has(query) && seen.add(query));

  it('has queries to check', () => expect(cases.length).toBeGreaterThanOrEqual(25));

  it.each(cases)('%s', async (_name, query) => {
    await expectPanelRows(influx, substitute(query));
  });

  it('fills the district and site variables from the telemetry tags', async () => {
    const [district, site] = boards[0]![1].templating.list!.map((v) => v.query as string);
    const values = async (q: string): Promise<string[]> =>
      (await influx.query(substitute(q))).flatMap((s) => s.rows.map((r) => r['value'] as string));
    expect(await values(district!)).toEqual(['haidian']);
    expect(await values(site!)).toEqual(SITES);
  });
});
