import { Injectable, Logger } from '@nestjs/common';
import { Cron } from '@nestjs/schedule';
import { InjectConfig, type AppConfig } from '@peakwatch/config';
import { InfluxClient } from '@peakwatch/influx';
import { PolicyData } from '@peakwatch/policy';
import { Registry } from '@peakwatch/registry';
import { writeKpiSeries } from '../kpi/kpi-series';
import type { KpiWindow } from '../kpi/site-kpis';
import { utcOffsetMs } from '../kpi/time-zone';

/** Every 15 minutes, 2 minutes past the quarter so that the quarter's last readings have arrived. */
export const KPI_CRON = '2,17,32,47 * * * *';
/** How far back each run recomputes, per period (ms): recent windows are rewritten as late readings arrive. */
export const KPI_LOOKBACK_MS: Record<KpiWindow, number> = {
  '15m': 2 * 3_600_000,
  '1h': 6 * 3_600_000,
  '1d': 2 * 86_400_000,
};

/**
 * The scheduled KPI job: recomputes the recent windows of every period for every site and writes the `kpi` series.
 * Keyed by window (the same window gives the same points), so a rerun or an overlap does no harm.
 */
@Injectable()
export class KpiCron {
  private readonly logger = new Logger('KpiCron');
  private running: Promise<void> | undefined;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly influx: InfluxClient,
    private readonly registry: Registry,
    private readonly policy: PolicyData,
  ) {}

  @Cron(KPI_CRON)
  async tick(): Promise<void> {
    if (this.running) return; // the previous run is still going
    this.running = this.runOnce(Date.now()).finally(() => (this.running = undefined));
    await this.running;
  }

  /** Recomputes the windows ending before `nowMs`. */
  async runOnce(nowMs: number): Promise<void> {
    const offsetMs = utcOffsetMs(this.config.tzReporting, nowMs);
    for (const period of Object.keys(KPI_LOOKBACK_MS) as KpiWindow[]) {
      try {
        const written = await writeKpiSeries({
          influx: this.influx,
          registry: this.registry,
          policy: this.policy,
          fromMs: nowMs - KPI_LOOKBACK_MS[period],
          toMs: nowMs,
          period,
          utcOffsetMs: offsetMs,
        });
        this.logger.log({ period, written }, 'KPI windows recomputed');
      } catch (error) {
        this.logger.warn(
          { period, err: String(error) },
          'KPI run failed; the next run covers these windows again',
        );
      }
    }
  }
}
