import type { AppDefinition } from '@peakwatch/runtime';
import { ReportsModule } from './reports.module';

export { ReportsModule } from './reports.module';
export const REPORTS_APP: AppDefinition = { name: 'reports', module: ReportsModule };
export { ReportScheduler, duePeriods } from './report.scheduler';
export { RetentionScheduler } from './retention.scheduler';
