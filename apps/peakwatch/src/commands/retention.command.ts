import { join } from 'node:path';
import { loadConfig } from '@peakwatch/config';
import { Retention, type MeterMonth, type RetentionPlan } from '@peakwatch/history';
import { InfluxClient } from '@peakwatch/influx';
import { loadRegistry } from '@peakwatch/registry';
import { Clock, Progress, UsageError } from '@peakwatch/runtime';
import { StateStore } from '@peakwatch/state';
import { parseDate } from './kpi.command';

const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const what = (m: MeterMonth): string =>
  `${m.siteId}/${m.deviceId} ${m.month}: ${m.action === 'downsample' ? 'down-sampled' : 'snapshots removed'}`;

/** The plan as lines: due now, due within the warning, kept and why. */
export function renderRetention(plan: RetentionPlan, applied: boolean): string[] {
  return [
    `retention at ${new Date(plan.atMs).toISOString()}`,
    `due: ${plan.due.length} meter months${applied ? ' (done)' : ' (--apply does them)'}`,
    ...plan.due.map((m) => `  ${what(m)}`),
    `within the warning: ${plan.upcoming.length} meter months`,
    ...plan.upcoming.map((m) => `  ${what(m)} on ${day(m.dueMs)}`),
    `kept: ${plan.kept.length} meter months`,
    ...plan.kept.map((m) => `  ${m.siteId}/${m.deviceId} ${m.month}: ${m.reasons.join('; ')}`),
  ];
}

/**
 * `peakwatch retention [--at <date>] [--apply] [--json]`: what the retention job would do now, or at a coming date
 * (docs/retention.md), and with --apply does what is due now (as the daily run does).
 */
export async function retentionCommand(flags: {
  at?: string;
  apply?: boolean;
  json?: boolean;
}): Promise<void> {
  const config = loadConfig(process.env);
  if (flags.at !== undefined && flags.apply)
    throw new UsageError('--at previews a date: --apply does only what is due now');
  const atMs = flags.at === undefined ? undefined : parseDate('--at', flags.at, config.tzReporting);
  const state = await StateStore.open(config.stateStore);
  try {
    const retention = new Retention({
      config,
      influx: new InfluxClient(config.influx),
      registry: loadRegistry(join(config.seedsDir, 'sites')),
      state,
      clock: Clock.system(),
    });
    let plan: RetentionPlan;
    if (flags.apply) {
      const progress = new Progress('retention', 'meter months');
      plan = await retention.run(undefined, (done, total) =>
        done === total ? progress.finish(done) : progress.update(done, total),
      );
    } else plan = await retention.plan(atMs);
    process.stdout.write(
      `${flags.json ? JSON.stringify(plan) : renderRetention(plan, flags.apply === true).join('\n')}\n`,
    );
  } finally {
    await state.close();
  }
}
