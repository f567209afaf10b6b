import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import {
  ALERTS_APP,
  AlertEvaluator,
  type AlertNotification,
  type IncidentNotification,
} from '@peakwatch/alerts';
import { kpiLine } from '@peakwatch/metering';
import { createApp } from '@peakwatch/runtime';
import { copySeeds } from '../support/seeds';
import { startInfluxd, type TestInfluxd } from '../support/influxd';
import { stopSchedules, testConfig } from '../support/ingest';

const DAY = 86_400_000;
const HOUR = 3_600_000;

/**
 * The renewable-trajectory rule against the kpi series of the real influxd: a new data centre's renewable share for
 * the year, minus its target, below zero for a day fires to its facility manager and its regulator; catching up
 * resolves it. The KPI points are written as the analytics service writes them (the series is the rule's input).
 */
describe('alert rule: renewable share behind its trajectory', () => {
  // the sample data centre, commissioned after Haidian's plan (2024-05-28): its trajectory applies
  const seeds = copySeeds({
    'sites/hd-dc1.yaml': [["commissionedOn: '2021-06-01'", "commissionedOn: '2025-01-01'"]],
  });
  const dataDir = mkdtempSync(join(tmpdir(), 'peakwatch-trajectory-'));
  let influxd: TestInfluxd;
  let app: INestApplication;
  const yearStart = Date.parse('2026-01-01T00:00:00+08:00');

  beforeAll(async () => {
    influxd = await startInfluxd();
    app = await createApp(
      await testConfig(influxd.url, 'trajectory', dataDir, {
        SEEDS_DIR: seeds,
        ALERT_ESCALATE_AFTER_MINUTES: '100000',
      }),
      [ALERTS_APP],
    );
    stopSchedules(app);
  });
  afterAll(async () => {
    await app?.close();
    await influxd?.stop();
    rmSync(seeds, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** The year's share and target as the KPI job writes them; `null`: nothing renewable metered or declared. */
  const write = async (share: number | null, target: number): Promise<void> => {
    const client = await influxd.client('trajectory');
    const point = (kpi: string, value: number | null, undeclared?: boolean) =>
      kpiLine(
        {
          kpi,
          windowStartMs: yearStart,
          value,
          numerator: value ?? 0,
          denominator: 1,
          completeness: 0.9,
          estimated: false,
          estimatedShare: 0,
          ...(undeclared === undefined ? {} : { undeclared }),
        },
        { scope: 'site', entity: 'hd-dc1', period: '1y' },
      );
    const writeApi = client.createWriteApi({ flushInterval: 0, maxRetries: 0 });
    writeApi.writeRecords([
      point('renewable_share', share, share === null),
      point('renewable_share_target', target),
    ]);
    await writeApi.close();
  };
  const trajectory = (queued: (AlertNotification | IncidentNotification)[]) =>
    queued
      .filter((n) => n.type !== 'incident')
      .filter((n) => n.rule.id === 'dc-renewable-behind-trajectory')
      .map((n) => [n.state, n.audience, n.value]);

  it('fires after a day behind, to the facility manager and the regulator, and resolves once caught up', async () => {
    // commissioned in 2025, +10 points a year: the 2026 target is 10%; the data centre is at 5%
    await write(0.05, 0.1);
    const evaluator = app.get(AlertEvaluator);
    const now = Date.parse('2026-11-21T12:00:00+08:00');
    expect(trajectory(await evaluator.runOnce(now))).toEqual([]); // pending: its `for` is a day
    const fired = trajectory(await evaluator.runOnce(now + DAY));
    expect(fired.map(([state, audience]) => [state, audience])).toEqual([
      ['firing', 'facility_manager'],
      ['firing', 'regulator'],
    ]);
    expect(fired[0]![2]).toBeCloseTo(0.05 - 0.1, 12);
    // 10.5% is within the clear margin (1 point): still firing; 12% resolves
    await write(0.105, 0.1);
    expect(trajectory(await evaluator.runOnce(now + 2 * DAY))).toEqual([]);
    await write(0.12, 0.1);
    expect(trajectory(await evaluator.runOnce(now + 3 * DAY)).map(([state]) => state)).toEqual([
      'resolved',
      'resolved',
    ]);
    // then a share of 0 (pending), and the window written again with nothing renewable metered or declared: its
    // stored 0 stays in the point (InfluxDB merges fields), yet it is no share, and no alert comes of it for days
    await write(0, 0.1);
    expect(trajectory(await evaluator.runOnce(now + 3 * DAY + HOUR))).toEqual([]);
    await write(null, 0.1);
    for (let day = 4; day < 8; day++)
      expect(trajectory(await evaluator.runOnce(now + day * DAY))).toEqual([]);
    // declared again, at 0: judged again, and fired, its `for` long over since it went pending (state is kept while
    // there is nothing to judge)
    await write(0, 0.1);
    expect(
      trajectory(await evaluator.runOnce(now + 8 * DAY)).map(([state, audience]) => [state, audience]),
    ).toEqual([
      ['firing', 'facility_manager'],
      ['firing', 'regulator'],
    ]);
  });
});
