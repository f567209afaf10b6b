export {
  HistoryImports,
  ImportRefusedError,
  MAX_REASON_LENGTH,
  UnknownImportError,
  type ImportActor,
} from './history-imports';
export {
  planImport,
  type AffectedWindow,
  type ImportPlan,
  type ImportRequest,
  type PlannedImport,
} from './import-plan';
export {
  ImportFileError,
  INTERVAL_COLUMNS,
  READING_COLUMNS,
  type RowProblem,
  type RowReason,
} from './import-rows';
export { rejectionsCsv, renderPlan } from './render-plan';
export { Retention, type MeterMonth, type RetentionPlan } from './retention';
