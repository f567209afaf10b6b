export { dashboardQueries, dashboardUid, dashboards } from './dashboards';
export { DATASOURCE, InfluxQLBuilder, influxql, type InfluxQLQuery } from './influxql';
export {
  GRAFANA_DASHBOARDS_PATH,
  dashboardProvisioning,
  datasourceProvisioning,
  grafanaFiles,
} from './provisioning';
export { DASHBOARD_TEXTS, dashboardTexts, type DashboardTexts, type TextKey, type Texts } from './texts';
