import { Injectable, Logger } from '@nestjs/common';
import { Cron } from '@nestjs/schedule';
import { InjectConfig, type AppConfig } from '@peakwatch/config';
import { Retention, type RetentionPlan } from '@peakwatch/history';
import { InfluxClient } from '@peakwatch/influx';
import { Registry } from '@peakwatch/registry';
import { Clock, Progress, SingleRun } from '@peakwatch/runtime';
import { JobLeases, StateStore, slotOf } from '@peakwatch/state';
import { Gauge, Registry as MetricsRegistry } from 'prom-client';

/** Once a day, at 03:40 (seconds first, as @nestjs/schedule reads it). */
export const RETENTION_CRON = '0 40 3 * * *';
const DAY_MS = 86_400_000;

/**
 * The daily retention run (docs/retention.md): warns of what falls due within RETENTION_WARN_DAYS, then down-samples
 * and removes what is due. With replicas on PostgreSQL, one of them runs it each day.
 */
@Injectable()
export class RetentionScheduler {
  private readonly logger = new Logger('Retention');
  private readonly single = new SingleRun((error) =>
    this.logger.warn({ err: String(error) }, 'retention run failed; the next run finishes it'),
  );
  private readonly retention: Retention;
  /** The warning for the operator's monitoring, as of the last run (GET /metrics). */
  private readonly upcoming: Gauge;
  private readonly nextDue: Gauge;
  private readonly kept: Gauge;

  constructor(
    @InjectConfig() config: AppConfig,
    influx: InfluxClient,
    registry: Registry,
    state: StateStore,
    private readonly clock: Clock,
    private readonly leases: JobLeases,
    metrics: MetricsRegistry,
  ) {
    this.retention = new Retention({ config, influx, registry, state, clock });
    const registers = [metrics];
    this.upcoming = new Gauge({
      name: 'peakwatch_retention_upcoming_months',
      help: 'Meter months to be down-sampled or have their snapshots removed within RETENTION_WARN_DAYS',
      registers,
    });
    this.nextDue = new Gauge({
      name: 'peakwatch_retention_next_due_seconds',
      help: 'When the first of them falls due (Unix time; 0: none)',
      registers,
    });
    this.kept = new Gauge({
      name: 'peakwatch_retention_kept_months',
      help: 'Meter months due but kept: behind a submitted report, a baseline year or an open alert',
      registers,
    });
  }

  @Cron(RETENTION_CRON)
  async tick(nowMs = this.clock.now()): Promise<void> {
    await this.single.run(async () => {
      if (!this.leases.shared) return this.scheduled(nowMs);
      await this.leases.runParts(
        'retention',
        slotOf(nowMs, DAY_MS),
        ['all'],
        () => this.scheduled(nowMs),
        nowMs + DAY_MS,
      );
    });
  }

  /** One run at `nowMs`: its plan, as applied. */
  async scheduled(nowMs: number): Promise<RetentionPlan> {
    const progress = new Progress('retention', 'meter months', {
      log: (fields) => this.logger.log(fields, 'retention progress'),
    });
    const plan = await this.retention.run(nowMs, (done, total) =>
      done === total ? progress.finish(done) : progress.update(done, total),
    );
    this.upcoming.set(plan.upcoming.length);
    this.nextDue.set(plan.upcoming.length > 0 ? Math.min(...plan.upcoming.map((m) => m.dueMs)) / 1000 : 0);
    this.kept.set(plan.kept.length);
    if (plan.upcoming.length > 0)
      this.logger.warn(
        {
          months: plan.upcoming.length,
          first: new Date(Math.min(...plan.upcoming.map((m) => m.dueMs))).toISOString(),
          meters: [...new Set(plan.upcoming.map((m) => m.deviceId))].length,
        },
        'retention: meter months will be down-sampled or removed within RETENTION_WARN_DAYS (see `peakwatch retention`)',
      );
    this.logger.log(
      {
        downsampled: plan.due.filter((m) => m.action === 'downsample').length,
        removed: plan.due.filter((m) => m.action === 'expire').length,
        kept: plan.kept.length,
      },
      'retention run',
    );
    return plan;
  }
}
