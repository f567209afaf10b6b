export {
  CONFIG_KEYS,
  LOG_LEVELS,
  type AlertEmail,
  type AudienceLanguages,
  type AlertWebhook,
  type ConfigKey,
  type LogLevel,
  type EmitterWebhook,
  type ReportEndpoint,
} from './config.keys';
export { ConfigError, hideCredentials, type ConfigProblem } from './config.error';
export { SQLITE_FILE_NAME, loadConfig, type AppConfig, type StateStoreConfig } from './load-config';
export { APP_CONFIG, ConfigModule, InjectConfig } from './config.module';
