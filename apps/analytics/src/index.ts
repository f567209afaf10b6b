import type { AppDefinition } from '@peakwatch/runtime';
import { AnalyticsModule } from './analytics.module';

export { AnalyticsModule } from './analytics.module';
export const ANALYTICS_APP: AppDefinition = { name: 'analytics', module: AnalyticsModule };
export {
  EXPECTED_INTERVAL_MS,
  computeSiteKpis,
  type KpiFactors,
  type KpiValue,
  type KpiWindow,
} from './kpi/site-kpis';
export { kpiFactorsFor } from './kpi/factors';
export { KPI_CRON, KPI_LOOKBACK_MS, KpiCron } from './jobs/kpi.cron';
export { kpiLine, writeKpiSeries } from './kpi/kpi-series';
export { utcOffsetMs } from './kpi/time-zone';
