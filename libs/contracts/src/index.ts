export {
  DEVICE_CHANNELS,
  DEVICE_STATUS,
  ID_PATTERN,
  TOPIC_ROOT,
  deviceTopic,
  isValidId,
  parseDeviceTopic,
  type DeviceChannel,
  type DeviceTopic,
} from './topics';
export {
  CITY_ENTITY,
  KPI_PERIODS,
  LATE_AFTER_MS,
  KPI_SCOPES,
  MEASUREMENTS,
  METRICS,
  isMetricName,
  type KpiPeriod,
  type KpiScope,
  type MetricName,
} from './measurements';
