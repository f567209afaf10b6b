import { Module } from '@nestjs/common';
import { KpiCron } from './jobs/kpi.cron';

/** Policy metrics: scheduled, idempotent KPI jobs that read telemetry and write the kpi series. */
@Module({ providers: [KpiCron], exports: [KpiCron] })
export class AnalyticsModule {}
