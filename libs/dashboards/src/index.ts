export { dashboardQueries, dashboards } from './dashboards';
export { DATASOURCE, InfluxQLBuilder, influxql, type InfluxQLQuery } from './influxql';
export {
  GRAFANA_DASHBOARDS_PATH,
  dashboardProvisioning,
  datasourceProvisioning,
  grafanaFiles,
} from './provisioning';
