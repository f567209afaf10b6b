export {
  InfluxClient,
  InfluxQueryError,
  quoteIdentifier,
  quoteString,
  type InfluxConnection,
  type InfluxSeries,
} from './influx-client';
export { ManagedInfluxd, type ManagedInfluxdOptions } from './managed-influxd';
