import { join } from 'node:path';
import { loadConfig } from '@peakwatch/config';
import { Retention, type MeterMonth, type RetentionPlan } from '@peakwatch/history';
import { InfluxClient } from '@peakwatch/influx';
import { loadRegistry } from '@peakwatch/registry';
import { Clock, Progress, UsageError } from '@peakwatch/runtime';
import { StateStore } from '@peakwatch/state';
import type { Language } from '@peakwatch/contracts';
import { cliText } from '../cli-language';
import { parseDate } from './kpi.command';

const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const meterMonth = (m: MeterMonth): { meter: string; month: string } => ({
  meter: `${m.siteId}/${m.deviceId}`,
  month: m.month,
});

/**
 * The plan as lines, in `language`: due now, due within the warning, kept and why (the reasons as the protections
 * state them).
 */
export function renderRetention(plan: RetentionPlan, applied: boolean, language: Language = 'en'): string[] {
  const t = cliText(language);
  return [
    t('retention.at', { at: new Date(plan.atMs).toISOString() }),
    t(applied ? 'retention.dueDone' : 'retention.dueToDo', { months: plan.due.length }),
    ...plan.due.map((m) =>
      t(m.action === 'downsample' ? 'retention.downsample' : 'retention.expire', meterMonth(m)),
    ),
    t('retention.upcoming', { months: plan.upcoming.length }),
    ...plan.upcoming.map((m) =>
      t(m.action === 'downsample' ? 'retention.upcomingDownsample' : 'retention.upcomingExpire', {
        ...meterMonth(m),
        day: day(m.dueMs),
      }),
    ),
    t('retention.kept', { months: plan.kept.length }),
    ...plan.kept.map((m) =>
      t('retention.keptBecause', { ...meterMonth(m), reasons: m.reasons.join(t('retention.reasons')) }),
    ),
  ];
}

/**
 * `peakwatch retention [--at <date>] [--apply] [--json]`: what the retention job would do now, or at a coming date
 * (docs/retention.md), and with --apply does what is due now (as the daily run does); the plan in `language`.
 */
export async function retentionCommand(
  flags: {
    at?: string;
    apply?: boolean;
    json?: boolean;
  },
  language: Language = 'en',
): Promise<void> {
  const config = loadConfig(process.env);
  if (flags.at !== undefined && flags.apply) throw new UsageError(cliText(language)('retention.atAndApply'));
  const atMs = flags.at === undefined ? undefined : parseDate('--at', flags.at, config.tzReporting, language);
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
      `${flags.json ? JSON.stringify(plan) : renderRetention(plan, flags.apply === true, language).join('\n')}\n`,
    );
  } finally {
    await state.close();
  }
}
