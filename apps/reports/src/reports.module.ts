import { Module } from '@nestjs/common';
import { ReportScheduler } from './report.scheduler';
import { ReportService } from '@peakwatch/reporting';

/** Emitters' monthly and annual reports, versioned and submitted through the notification outbox (issue 9). */
@Module({
  providers: [ReportService, ReportScheduler],
  exports: [ReportService],
})
export class ReportsModule {}
