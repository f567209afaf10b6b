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
