import { Injectable, Logger } from '@nestjs/common';
import { Cron } from '@nestjs/schedule';
import { utcOffsetMs } from '@peakwatch/metering';
import { Clock, Progress, SingleRun } from '@peakwatch/runtime';
import { InjectConfig, type AppConfig } from '@peakwatch/config';
import { Registry } from '@peakwatch/registry';
import { ReportService, reportPeriod } from '@peakwatch/reporting';
import { JobLeases, slotOf } from '@peakwatch/state';

/** The reports' schedule (one per process that runs the reports app). */
/** Every hour, 20 minutes past (after the KPI job's quarter-hour runs; seconds first, as @nestjs/schedule reads it). */
export const REPORT_CRON = '0 20 * * * *';
/** The schedule's period (ms): one run an hour. */
const REPORT_RUN_PERIOD_MS = 3_600_000;

@Injectable()
export class ReportScheduler {
  private readonly logger = new Logger('ReportScheduler');
  private readonly single = new SingleRun((error) =>
    this.logger.warn({ err: String(error) }, 'report run failed; retried next hour'),
  );

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly registry: Registry,
    private readonly reports: ReportService,
    private readonly clock: Clock,
    private readonly leases: JobLeases,
  ) {}

  /**
   * Every hour: each key emitter's report of the month before, once it has settled (REPORT_SETTLE_HOURS), and the
   * annual report of the year before from REPORT_ANNUAL_BY on. Unchanged reports are not new versions, so the job
   * also restates a month when late data changed it.
   */
  @Cron(REPORT_CRON)
  async tick(nowMs = this.clock.now()): Promise<void> {
    await this.single.run(async () => {
      if (!this.leases.shared) return this.scheduled(nowMs);
      // with replicas sharing a PostgreSQL state store, the hour's run is leased to one of them (docs/deployment.md)
      await this.leases.runParts(
        'reports',
        slotOf(nowMs, REPORT_RUN_PERIOD_MS),
        ['all'],
        () => this.scheduled(nowMs),
        nowMs + REPORT_RUN_PERIOD_MS,
      );
    });
  }

  private async scheduled(nowMs: number): Promise<void> {
    const orgs = [
      ...new Set(this.registry.sites.filter((s) => s.emitter?.keyEmitter).map((s) => s.emitter!.id)),
    ];
    const periods = duePeriods(nowMs, {
      timeZone: this.config.tzReporting,
      settleMs: this.config.reports.settleMs,
      annualBy: this.config.reports.annualBy,
    });
    // a run over many organisations says how far it is every 10 s (a short one says nothing)
    const progress = new Progress('reports', 'reports', {
      total: orgs.length * periods.length,
      log: (fields) => this.logger.log(fields, 'report run: progress'),
    });
    let done = 0;
    for (const org of orgs)
      for (const period of periods) {
        await this.reports.generate(org, period);
        progress.update(++done);
      }
  }
}

/**
 * The periods the hourly run generates at `nowMs` (reporting zone): the month before, once `settleMs` have passed
 * since it ended (every hour after that, so late data restates it); the year before, once a day (at 01:xx) from
 * 1 January until `annualBy` (MM-DD), the date it is due.
 */
export function duePeriods(
  nowMs: number,
  { timeZone, settleMs, annualBy }: { timeZone: string; settleMs: number; annualBy: string },
): string[] {
  const local = new Date(nowMs + utcOffsetMs(timeZone, nowMs));
  const [year, month] = [local.getUTCFullYear(), local.getUTCMonth()];
  const label = (y: number, m: number): string => {
    const d = new Date(Date.UTC(y, m, 1));
    return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
  };
  const periods: string[] = [];
  if (nowMs >= reportPeriod(label(year, month), timeZone).fromMs + settleMs)
    periods.push(label(year, month - 1));
  if (local.toISOString().slice(0, 10) <= `${year}-${annualBy}` && local.getUTCHours() === 1)
    periods.push(String(year - 1));
  return periods;
}
