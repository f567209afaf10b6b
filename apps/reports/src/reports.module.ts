import { Module } from '@nestjs/common';
import { ReportScheduler } from './report.scheduler';
import { ReportService } from '@peakwatch/reporting';
import { RetentionScheduler } from './retention.scheduler';

/**
 * Emitters' monthly and annual reports, versioned and submitted through the notification outbox, and the retention
 * that keeps their evidence (docs/retention.md).
 */
@Module({
  providers: [ReportService, ReportScheduler, RetentionScheduler],
  exports: [ReportService],
})
export class ReportsModule {}
