export { Registry, loadRegistry, type RegisteredDevice } from './registry';
export {
  DEVICE_KINDS,
  DEVICE_ROLES,
  SITE_TYPES,
  SUBMETER_ROLES,
  deviceSchema,
  siteSchema,
  type Device,
  type DeviceKind,
  type DeviceRole,
  type Site,
  type SiteType,
} from './registry.schema';
export { DataFileError, displayPath, formatPath, readYamlFile, type FileProblem } from './yaml-file';
