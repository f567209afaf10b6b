import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type * as common from '@grafana/grafana-foundation-sdk/common';

/** The provisioned InfluxDB data source (InfluxQL over the v1 API), referenced by every panel. */
export const DATASOURCE: common.DataSourceRef = { type: 'influxdb', uid: 'peakwatch-influxdb' };

/** A raw InfluxQL target of Grafana's InfluxDB data source (the SDK ships no InfluxDB query type). */
export interface InfluxQLQuery extends cog.Dataquery {
  refId: string;
  datasource: common.DataSourceRef;
  query: string;
  rawQuery: true;
  resultFormat: 'time_series' | 'table';
  /** The series' display name (legend): `$tag_<key>` stands for a tag's value, `$col` for the column's name. */
  alias?: string;
}

/**
 * Builds an InfluxQL target. Every selected value is given an alias (`AS "name"`): the columns a panel expects, which
 * the query test checks against the real influxd.
 */
export class InfluxQLBuilder implements cog.Builder<InfluxQLQuery> {
  private readonly internal: InfluxQLQuery;

  constructor(query: string, refId = 'A') {
    this.internal = {
      refId,
      datasource: DATASOURCE,
      query,
      rawQuery: true,
      resultFormat: 'time_series',
      _implementsDataqueryVariant: () => undefined,
    };
  }

  /** The legend of the query's series, in the dashboard's language (texts.ts). */
  alias(alias: string): this {
    this.internal.alias = alias;
    return this;
  }

  table(): this {
    this.internal.resultFormat = 'table';
    return this;
  }

  build(): InfluxQLQuery {
    return this.internal;
  }
}

export const influxql = (query: string, refId = 'A'): InfluxQLBuilder => new InfluxQLBuilder(query, refId);
