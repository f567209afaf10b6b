import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { DATASOURCE, influxql, type InfluxQLBuilder } from './influxql';

/** A reference line on a panel: a policy value with its label (the policy data's id). */
export interface Limit {
  value: number;
  color: 'red' | 'orange' | 'green' | 'blue';
}

function thresholds(limits: readonly Limit[]): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder()
    .mode(dashboard.ThresholdsMode.Absolute)
    .steps([
      { value: null, color: 'green' },
      ...[...limits].sort((a, b) => a.value - b.value).map((l) => ({ value: l.value, color: l.color })),
    ]);
}

type Queries = string | readonly (string | InfluxQLBuilder)[];
const targets = (queries: Queries): InfluxQLBuilder[] =>
  (typeof queries === 'string' ? [queries] : queries).map((q, i) =>
    typeof q === 'string' ? influxql(q, String.fromCharCode(65 + i)) : q,
  );

/** A time series of InfluxQL queries, with policy limits drawn as dashed lines. */
export function timeSeries(
  title: string,
  queries: Queries,
  {
    unit,
    limits = [],
    width = 12,
    description,
  }: { unit: string; limits?: readonly Limit[]; width?: number; description?: string },
): timeseries.PanelBuilder {
  const panel = new timeseries.PanelBuilder()
    .title(title)
    .datasource(DATASOURCE)
    .unit(unit)
    .span(width)
    .height(8)
    .targets(targets(queries));
  if (description) panel.description(description);
  if (limits.length > 0)
    panel
      .thresholds(thresholds(limits))
      .thresholdsStyle(
        new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed),
      );
  return panel;
}

/** The last value of a query (e.g. energy today), coloured by the policy limits. */
export function statValue(
  title: string,
  queries: Queries,
  {
    unit,
    limits = [],
    width = 6,
    timeFrom,
    description,
  }: { unit: string; limits?: readonly Limit[]; width?: number; timeFrom?: string; description?: string },
): stat.PanelBuilder {
  const panel = new stat.PanelBuilder()
    .title(title)
    .datasource(DATASOURCE)
    .unit(unit)
    .span(width)
    .height(5)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .targets(targets(queries));
  if (limits.length > 0) panel.thresholds(thresholds(limits)).colorMode(common.BigValueColorMode.Value);
  if (timeFrom) panel.timeFrom(timeFrom);
  if (description) panel.description(description);
  return panel;
}

/** A table of an InfluxQL query in table format, sorted by a column if asked. */
export function tableOf(
  title: string,
  query: string,
  {
    width = 24,
    height = 8,
    description,
    sortBy,
  }: {
    width?: number;
    height?: number;
    description?: string;
    sortBy?: { field: string; desc: boolean };
  } = {},
): table.PanelBuilder {
  const panel = new table.PanelBuilder()
    .title(title)
    .datasource(DATASOURCE)
    .span(width)
    .height(height)
    .targets([influxql(query).table()]);
  if (description) panel.description(description);
  if (sortBy)
    panel.sortBy([new common.TableSortByFieldStateBuilder().displayName(sortBy.field).desc(sortBy.desc)]);
  return panel;
}

/** The site and district variables every dashboard has (multi-value, "All" by default). */
export function areaVariables(): dashboard.QueryVariableBuilder[] {
  const variable = (name: string, label: string, query: string): dashboard.QueryVariableBuilder =>
    new dashboard.QueryVariableBuilder(name)
      .label(label)
      .datasource(DATASOURCE)
      .query(query)
      .definition(query)
      .refresh(dashboard.VariableRefresh.OnDashboardLoad)
      .sort(dashboard.VariableSort.AlphabeticalAsc)
      .multi(true)
      .includeAll(true);
  return [
    variable('district', 'District', 'SHOW TAG VALUES FROM "telemetry" WITH KEY = "district"'),
    variable(
      'site',
      'Site',
      'SHOW TAG VALUES FROM "telemetry" WITH KEY = "site" WHERE "district" =~ /^$district$/',
    ),
  ];
}

/** Annotations from an InfluxQL query (its `text` column), shown on every panel of the dashboard. */
export function annotations(name: string, color: string, query: string): dashboard.AnnotationQueryBuilder {
  return new dashboard.AnnotationQueryBuilder()
    .name(name)
    .datasource(DATASOURCE)
    .enable(true)
    .iconColor(color)
    .target(influxql(query));
}
