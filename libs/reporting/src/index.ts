/**
 * Emitters' reports (docs/reports.md), shared by the reports app (its schedule), the API (which serves and
 * regenerates them) and the command line: the meter read, the figures, the files, and the store of versions and
 * declarations with their submission through the outbox.
 */
export {
  UnknownOrganisationError,
  boundaryOf,
  computeReport,
  contentHash,
  readReportSources,
  reportPeriod,
  type ReportSources,
} from './report';
export {
  compareReports,
  evidenceBundle,
  evidenceFiles,
  verifyBundle,
  type BundleInfo,
  type FigureDifference,
  type Verification,
} from './report-evidence';
export {
  EVIDENCE_LAYOUT,
  REPORT_SCHEMA,
  type CarrierLine,
  type MeterLine,
  type Report,
  type ReportKind,
} from './report-schema';
export { meterLines, readReportRows, type SiteMeterRows } from './report-meters';
export { reportFigures, type ReportFigures } from './report-figures';
export { REPORT_FORMATS, ReportFiles, reportCsv, type ReportFormat } from './report-files';
export { MissingFontError, reportPdf } from './report-pdf';
export { DeclarationError, ReportService, reportChanges, type ReportVersion } from './report.service';
export {
  POSITION_BASIS,
  carbonMarketPosition,
  positionOf,
  type CarbonMarketPosition,
  type CarbonMarketSource,
} from './carbon-position';
