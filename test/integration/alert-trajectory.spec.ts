import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { ALERTS_APP, AlertEvaluator, type AlertNotification } from '@peakwatch/alerts';
import { kpiLine } from '@peakwatch/analytics';
import { createApp } from '@peakwatch/runtime';
import { copySeeds } from '../support/seeds';
import { startInfluxd, type TestInfluxd } from '../support/influxd';
import { stopSchedules, testConfig } from '../support/ingest';

const DAY = 86_400_000;

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

  const write = async (share: number, target: number): Promise<void> => {
    const client = await influxd.client('trajectory');
    const point = (kpi: string, value: number) =>
      kpiLine(
        {
          kpi,
          windowStartMs: yearStart,
          value,
          numerator: value,
          denominator: 1,
          completeness: 0.9,
          estimated: false,
          estimatedShare: 0,
        },
        { scope: 'site', entity: 'hd-dc1', period: '1y' },
      );
    const writeApi = client.createWriteApi({ flushInterval: 0, maxRetries: 0 });
    writeApi.writeRecords([point('renewable_share', share), point('renewable_share_target', target)]);
    await writeApi.close();
  };
  const trajectory = (queued: AlertNotification[]) =>
    queued
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
  });
});
