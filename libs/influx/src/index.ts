export {
  InfluxClient,
  InfluxQueryError,
  quoteIdentifier,
  quoteString,
  type InfluxConnection,
  type InfluxSeries,
} from './influx-client';
export { ManagedInfluxd, type ManagedInfluxdOptions } from './managed-influxd';
export { escapeTag, floatField, intField, line, stringField } from './line-protocol';
