import { Module } from '@nestjs/common';

/** Policy metrics: scheduled, idempotent KPI jobs that read telemetry and write the kpi series (issue 5). */
@Module({})
export class AnalyticsModule {}
