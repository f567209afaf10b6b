import type { AppDefinition } from '@peakwatch/runtime';
import { AnalyticsModule } from './analytics.module';

export { AnalyticsModule } from './analytics.module';
export const ANALYTICS_APP: AppDefinition = { name: 'analytics', module: AnalyticsModule };
export { computeSiteKpis } from '@peakwatch/metering';
export { KPI_CRON, KPI_LOOKBACK_MS, KpiCron, type LateRecomputation } from './jobs/kpi.cron';
export { writeKpiSeries } from './kpi/kpi-series';
export { CALENDAR_PERIODS, writeAreaKpis, writeCalendarKpis } from './kpi/rollups';
