/**
 * What the apps share about metered energy (docs/architecture.md): reporting periods and the time zone, the meter
 * read and window booking of registers (register rules of libs/domain applied), the factors of a period, and the one
 * store of the `kpi` series (its line format, writer and reader).
 */
export {
  FIXED_PERIOD_MS,
  IMPORT_FINE_PERIODS,
  periodWindow,
  windowsOf,
  type CalendarPeriod,
  type FixedPeriod,
  type KpiWindowRange,
} from './periods';
export { instantMs, utcOffsetMs } from './time-zone';
export {
  bookQuarters,
  emptySum,
  periodEnergy,
  readMeterRows,
  readNeighbours,
  readQuarters,
  type DeviceEnergy,
  type MeterRows,
  type NeighbourReads,
  type DeviceQuarters,
  type ReadingOverlay,
  type WindowSum,
} from './meter-read';
export { forSite, kpiFactorsFor, type Co2Factors, type KpiFactors } from './factors';
export {
  KpiWriter,
  kpiLine,
  readKpis,
  readLatestKpis,
  writeKpiLines,
  type KpiValue,
  type StoredKpi,
} from './kpi-store';
export { computeSiteKpis, siteKpis } from './site/site-kpis';
