import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deviceTopic } from '@peakwatch/contracts';
import type { KpiValue } from '@peakwatch/metering';
import type { Report } from '@peakwatch/reporting';
import { Clock } from '@peakwatch/runtime';
import { ROOT, buildDist, runCliJson } from '../support/build';
import { DAY, HOUR, beijingMidnight } from '../support/calendar';
import { startInfluxd, type TestInfluxd } from '../support/influxd';
import { spoolDrained, startIngest, type TestIngest } from '../support/ingest';
import { connectClient } from '../support/mqtt';
import { expectWithin, registerTolerance } from '../support/tolerance';

const SEEDS = join(ROOT, 'seeds');
const STEP = 5 * 60_000;
/** 20 November 2024, 20 December 2024 and 20 January 2025: on either side of two publications of the grid factor. */
const DAYS = ['2024-11-20', '2024-12-20', '2025-01-20'];

/**
 * A published emission factor never changes a past period (docs/domain.md, "Factors"): an office's supply meter at a
 * steady 100 kW (2,400 kWh a day) on three days, and its CO2 from the `kpi` command and the monthly reports, worked
 * by hand with the national grid factor each period had when it ended. seeds/emission-factors publishes 2021's
 * factor (0.5568 kgCO2/kWh) on 2024-01-01, 2022's (0.5366) on 2024-12-01 and 2023's (0.5306) on 2025-01-01; without
 * the publication dates, every one of these days would take 2023's, published after two of them had ended.
 */
describe('emission factors as published at the end of each period', () => {
  let influxd: TestInfluxd;
  let ingest: TestIngest;
  let dataDir: string;
  const clock = Clock.startingAt(beijingMidnight('2025-01-21') + 10 * HOUR);
  const env = (): NodeJS.ProcessEnv => ({
    INFLUX_URL: influxd.url,
    INFLUX_DATABASE: 'factors',
    SEEDS_DIR: SEEDS,
    DATA_DIR: dataDir,
  });

  beforeAll(async () => {
    buildDist();
    influxd = await startInfluxd();
    dataDir = await mkdtemp(join(tmpdir(), 'peakwatch-factors-'));
    ingest = await startIngest(influxd, 'factors', { INGEST_HORIZON_DAYS: '90', DATA_DIR: dataDir }, clock);
    const { 'b3-grid': secret } = await ingest.secrets(['b3-grid']);
    const device = await connectClient(ingest.mqttUrl, { username: 'b3-grid', password: secret! });
    // the register counts only on those days (the office is closed in between): no energy to spread over the gaps
    let seq = 0;
    for (const [i, day] of DAYS.entries()) {
      const from = beijingMidnight(day);
      const readings = [];
      for (let t = from; t <= from + DAY; t += STEP)
        readings.push({
          ts: t,
          seq: seq++,
          values: { energy_import_kwh: Math.round((2400 * i + (100 * (t - from)) / HOUR) * 1000) / 1000 },
        });
      for (let i = 0; i < readings.length; i += 50)
        await device.publishAsync(
          deviceTopic('hd-b3', 'b3-grid', 'telemetry'),
          JSON.stringify(readings.slice(i, i + 50)),
          {
            qos: 1,
          },
        );
    }
    await device.endAsync();
    expect(await spoolDrained(ingest.config.http.port)).toBe(true);
  });
  afterAll(async () => {
    await ingest?.close();
    await influxd?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  // 2,400 kWh × the factor ÷ 1,000 (t); the register's resolution at each end of the day
  const tolerance = (factor: number) => (2 * registerTolerance() * factor) / 1000;

  it.each([
    ['2024-11-20', 0.5568], // only 2021's factor had been published by 30 November 2024
    ['2024-12-20', 0.5366], // 2022's, published on 1 December
    ['2025-01-20', 0.5306], // 2023's, published on 1 January 2025
  ])('`peakwatch kpi`: CO2 of %s at %s kgCO2/kWh', (day, factor) => {
    const next = new Date(beijingMidnight(day) + DAY + 8 * HOUR).toISOString().slice(0, 10);
    const run = runCliJson<KpiValue[]>(
      ['kpi', '--site', 'hd-b3', '--from', day, '--to', next, '--json'],
      env(),
    );
    const co2 = run.json.find((k) => k.kpi === 'co2_t' && !k.category)!;
    expectWithin(co2.value, (2400 * factor) / 1000, tolerance(factor));
  });

  it.each([
    ['2024-11', 0.5568],
    ['2024-12', 0.5366],
  ])("the %s report's location-based CO2 and the factor it names: %s kgCO2/kWh", (month, factor) => {
    const report = runCliJson<Report>(
      ['report', '--org', 'hd-tech-campus', '--month', month, '--json'],
      env(),
    ).json;
    expect(report.factors.find((f) => f.kind === 'electricity_grid')!.value).toBe(factor);
    expectWithin(
      report.emissions.indirectElectricityLocationT,
      (2400 * factor) / 1000,
      tolerance(factor) + 0.0001,
    );
  });
});
