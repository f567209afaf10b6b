import type { AppDefinition } from '@peakwatch/runtime';
import { AnalyticsModule } from './analytics.module';

export { AnalyticsModule } from './analytics.module';
export const ANALYTICS_APP: AppDefinition = { name: 'analytics', module: AnalyticsModule };
export {
  computeSiteKpis,
  periodEnergy,
  readQuarters,
  type DeviceEnergy,
  type WindowSum,
  type Co2Factors,
  type KpiFactors,
  type KpiValue,
} from './kpi/site-kpis';
export { forSite, kpiFactorsFor } from './kpi/factors';
export { KPI_CRON, KPI_LOOKBACK_MS, KpiCron, type LateRecomputation } from './jobs/kpi.cron';
export { kpiLine, writeKpiLines, writeKpiSeries } from './kpi/kpi-series';
export { CALENDAR_PERIODS, readKpis, writeAreaKpis, writeCalendarKpis } from './kpi/rollups';
export { utcOffsetMs } from './kpi/time-zone';
export {
  FIXED_PERIOD_MS,
  periodWindow,
  windowsOf,
  type FixedPeriod,
  type KpiWindowRange,
} from './kpi/periods';
