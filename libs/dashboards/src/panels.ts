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

/** An InfluxQL query and the legend of its series (a text of the dashboard's language). */
export interface Target {
  query: string;
  legend: string;
}
type Targets = Target | readonly Target[];
const targets = (queries: Targets): InfluxQLBuilder[] =>
  (Array.isArray(queries) ? (queries as readonly Target[]) : [queries as Target]).map((q, i) =>
    influxql(q.query, String.fromCharCode(65 + i)).alias(q.legend),
  );

/** A time series of InfluxQL queries, with policy limits drawn as dashed lines. */
export function timeSeries(
  title: string,
  queries: Targets,
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
  queries: Targets,
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

/** A table column of a query: its name in the dashboard's language, its value mappings, or hidden. */
export interface Column {
  name?: string;
  mappings?: Record<string, string>;
  /** The texts of a boolean column's true and false. */
  booleans?: { true: string; false: string };
  hidden?: boolean;
}

/** Grafana's field config of a column: its display name, the texts its values map to, hidden or not. */
function columnProperties(column: Column): dashboard.DynamicConfigValue[] {
  const properties: dashboard.DynamicConfigValue[] = [];
  if (column.name) properties.push({ id: 'displayName', value: column.name });
  const mappings: dashboard.ValueMapping[] = [];
  if (column.mappings)
    mappings.push({
      type: dashboard.MappingType.ValueToText,
      options: Object.fromEntries(
        Object.entries(column.mappings).map(([value, text], index) => [value, { text, index }]),
      ),
    });
  if (column.booleans)
    mappings.push(
      {
        type: dashboard.MappingType.SpecialValue,
        options: { match: dashboard.SpecialValueMatch.True, result: { text: column.booleans.true } },
      },
      {
        type: dashboard.MappingType.SpecialValue,
        options: { match: dashboard.SpecialValueMatch.False, result: { text: column.booleans.false } },
      },
    );
  if (mappings.length > 0) properties.push({ id: 'mappings', value: mappings });
  if (column.hidden) properties.push({ id: 'custom.hidden', value: true });
  return properties;
}

/**
 * A table of an InfluxQL query in table format. `columns` are by the names the query answers (its aliases, the tags
 * it groups by, and `Time`, the name Grafana gives the time column); `sortBy` names one of them.
 */
export function tableOf(
  title: string,
  query: string,
  {
    width = 24,
    height = 8,
    description,
    columns = {},
    sortBy,
  }: {
    width?: number;
    height?: number;
    description?: string;
    columns?: Record<string, Column>;
    sortBy?: { column: string; desc: boolean };
  } = {},
): table.PanelBuilder {
  const panel = new table.PanelBuilder()
    .title(title)
    .datasource(DATASOURCE)
    .span(width)
    .height(height)
    .targets([influxql(query).table()]);
  if (description) panel.description(description);
  // only the columns this query answers (the shared ones are given to every table)
  for (const [name, column] of Object.entries(columns))
    if (name === 'Time' || query.includes(`"${name}"`)) panel.overrideByName(name, columnProperties(column));
  if (sortBy)
    panel.sortBy([
      new common.TableSortByFieldStateBuilder()
        .displayName(columns[sortBy.column]?.name ?? sortBy.column)
        .desc(sortBy.desc),
    ]);
  return panel;
}

/** The site and district variables every dashboard has (multi-value, "All" by default), labelled in its language. */
export function areaVariables(labels: { district: string; site: string }): dashboard.QueryVariableBuilder[] {
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
    variable('district', labels.district, 'SHOW TAG VALUES FROM "telemetry" WITH KEY = "district"'),
    variable(
      'site',
      labels.site,
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
