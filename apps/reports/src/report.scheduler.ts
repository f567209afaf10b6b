import { Injectable, Logger } from '@nestjs/common';
import { Cron } from '@nestjs/schedule';
import { utcOffsetMs } from '@peakwatch/analytics';
import { InjectConfig, type AppConfig } from '@peakwatch/config';
import { Registry } from '@peakwatch/registry';
import { reportPeriod } from './report';
import { ReportService } from './report.service';

/** The reports' schedule (one per process that runs the reports app). */
@Injectable()
export class ReportScheduler {
  private readonly logger = new Logger('ReportScheduler');
  private running: Promise<unknown> | undefined;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly registry: Registry,
    private readonly reports: ReportService,
  ) {}

  /**
   * Every hour: each key emitter's report of the month before, once it has settled (REPORT_SETTLE_HOURS), and the
   * annual report of the year before from REPORT_ANNUAL_BY on. Unchanged reports are not new versions, so the job
   * also restates a month when late data changed it.
   */
  @Cron('0 20 * * * *')
  async tick(nowMs = Date.now()): Promise<void> {
    if (this.running) return;
    this.running = this.scheduled(nowMs)
      .catch((error: unknown) =>
        this.logger.warn({ err: String(error) }, 'report run failed; retried next hour'),
      )
      .finally(() => (this.running = undefined));
    await this.running;
  }

  private async scheduled(nowMs: number): Promise<void> {
    const local = new Date(nowMs + utcOffsetMs(this.config.tzReporting, nowMs));
    const thisMonth = `${local.getUTCFullYear()}-${String(local.getUTCMonth() + 1).padStart(2, '0')}`;
    const monthStart = reportPeriod(thisMonth, this.config.tzReporting).fromMs;
    const previous = new Date(Date.UTC(local.getUTCFullYear(), local.getUTCMonth() - 1, 1));
    const lastMonth = `${previous.getUTCFullYear()}-${String(previous.getUTCMonth() + 1).padStart(2, '0')}`;
    const orgs = [
      ...new Set(this.registry.sites.filter((s) => s.emitter?.keyEmitter).map((s) => s.emitter!.id)),
    ];
    for (const org of orgs) {
      if (nowMs >= monthStart + this.config.reports.settleMs) await this.reports.generate(org, lastMonth);
      const annualDue = `${local.getUTCFullYear()}-${this.config.reports.annualBy}`;
      if (local.toISOString().slice(0, 10) <= annualDue && local.getUTCHours() === 1)
        await this.reports.generate(org, String(local.getUTCFullYear() - 1));
    }
  }
}
