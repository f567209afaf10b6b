import type { AppDefinition } from '@peakwatch/runtime';
import { ReportsModule } from './reports.module';

export { ReportsModule } from './reports.module';
export const REPORTS_APP: AppDefinition = { name: 'reports', module: ReportsModule };
export {
  REPORT_SCHEMA,
  UnknownOrganisationError,
  boundaryOf,
  buildReport,
  contentHash,
  reportCsv,
  reportPeriod,
  type Report,
} from './report';
export { MissingFontError, reportPdf } from './report-pdf';
export {
  DeclarationError,
  REPORT_FORMATS,
  ReportService,
  reportChanges,
  type ReportFormat,
  type ReportVersion,
} from './report.service';
export { ReportScheduler, duePeriods } from './report.scheduler';
