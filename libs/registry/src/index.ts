export { DeviceRefusedError, Registry, loadRegistry, type RegisteredDevice } from './registry';
export {
  DEFAULT_READING_INTERVAL_SECONDS,
  DEVICE_KINDS,
  DEVICE_ROLES,
  SITE_TYPES,
  SUBMETER_ROLES,
  deviceSchema,
  readingIntervalMs,
  removedAtMs,
  expectedReadings,
  siteSchema,
  type Device,
  type DeviceKind,
  type DeviceRole,
  type Site,
  type SiteType,
} from './registry.schema';
export { DataFileError, displayPath, formatPath, readYamlFile, type FileProblem } from './yaml-file';
