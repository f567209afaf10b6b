import { isAbsolute, resolve } from 'node:path';
import {
  CONFIG_KEYS,
  type AlertEmail,
  type AudienceLanguages,
  type AlertWebhook,
  type ConfigKey,
  type KeySpec,
  type LogLevel,
  type EmitterWebhook,
  type ReportEndpoint,
} from './config.keys';
import { ConfigError, hideCredentials, type ConfigProblem } from './config.error';

export type StateStoreConfig = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };

/** The one typed configuration object; feature code reads this, never `process.env`. */
export interface AppConfig {
  mqtt: {
    /** Embedded broker port and bind address (used when `url` is unset). */
    port: number;
    host: string;
    /** External broker; when set, no embedded broker runs. */
    url?: string;
    username?: string;
    password?: string;
    /** Mosquitto dynamic security's admin login on the external broker: PeakWatch provisions its clients there. */
    dynsec?: { username: string; password: string };
    /** TLS listener of the embedded broker, when a certificate and key are configured. */
    tls?: { port: number; certFile: string; keyFile: string };
    maxConnections: number;
    /** Keepalive of ingest's subscription on the external broker (seconds). */
    keepaliveSeconds: number;
  };
  ingest: {
    maxPayloadBytes: number;
    maxBatch: number;
    maxFutureMs: number;
    horizonMs: number;
    spoolMaxBytes: number;
  };
  http: { port: number; host: string };
  /** A separate listener of /metrics (then not served on `http`), when METRICS_PORT is set. */
  metrics?: { port: number; host: string };
  /** `brokerHookToken`: what EMQX's HTTP authentication and authorization requests carry (none: no hook). */
  api: { rateLimitPerMinute: number; brokerHookToken?: string };
  alerts: {
    webhooks: AlertWebhook[];
    webhookSecret?: string;
    escalateAfterMs: number;
    emails: AlertEmail[];
    /** The language of each audience's notifications. */
    languages: AudienceLanguages;
    smtpUrl?: string;
    emailFrom: string;
    /** Grouping of data-quality alerts into incidents (docs/incidents.md). */
    incidents: { minAlerts: number; waitMs: number };
  };
  reports: {
    endpoints: ReportEndpoint[];
    /** Organisations' own receivers (carbon-market warnings). */
    emitterWebhooks: EmitterWebhook[];
    settleMs: number;
    annualBy: string;
  };
  /** History imports through the API (docs/imports.md). */
  imports: { maxBytes: number };
  /** Telemetry retention (docs/retention.md): days, years, days. */
  retention: { rawDays: number; snapshotYears: number; warnDays: number };
  /** Leases of scheduled runs across replicas (PostgreSQL state store). */
  jobs: { leaseMs: number };
  influx: { url: string; database: string; token?: string };
  /** Absolute paths. */
  dataDir: string;
  seedsDir: string;
  stateStore: StateStoreConfig;
  tzReporting: string;
  logLevel: LogLevel;
  shutdownTimeoutMs: number;
}

type Parsed = { [K in ConfigKey]: (typeof CONFIG_KEYS)[K] extends KeySpec<infer T> ? T | undefined : never };

/** File name of the SQLite state store inside DATA_DIR. */
export const SQLITE_FILE_NAME = 'peakwatch.sqlite';

/** InfluxDB URL assumed by commands that never talk to InfluxDB (e.g. `peakwatch device secret`). */
const UNUSED_INFLUX_URL = 'http://127.0.0.1:8086';

/**
 * Reads and validates the configuration once. Throws {@link ConfigError} naming every bad or missing key.
 * @param env - the environment (normally `process.env`)
 * @param cwd - base for relative paths
 * @param options.influx - false for commands that do not use InfluxDB: INFLUX_URL may then be unset
 */
export function loadConfig(
  env: NodeJS.ProcessEnv,
  cwd = process.cwd(),
  options: { influx?: boolean } = {},
): AppConfig {
  if (options.influx === false && !env['INFLUX_URL']?.trim()) env = { ...env, INFLUX_URL: UNUSED_INFLUX_URL };
  const problems: ConfigProblem[] = [];
  const parsed = {} as Record<ConfigKey, unknown>;
  for (const [key, spec] of Object.entries(CONFIG_KEYS) as [ConfigKey, KeySpec<unknown>][]) {
    const given = env[key]?.trim() ? env[key] : undefined;
    const raw = given ?? spec.default;
    if (raw === undefined) {
      if (spec.required) problems.push({ key, expected: spec.expected });
      continue;
    }
    const value = spec.parse(raw);
    if (value === undefined)
      problems.push(
        spec.secret
          ? { key, secret: true, expected: spec.expected }
          : { key, value: hideCredentials(raw), expected: spec.expected },
      );
    parsed[key] = value;
  }
  const tlsHalf = (env['MQTT_TLS_CERT']?.trim() ? 1 : 0) + (env['MQTT_TLS_KEY']?.trim() ? 1 : 0);
  if (tlsHalf === 1) {
    const missing = env['MQTT_TLS_CERT']?.trim() ? 'MQTT_TLS_KEY' : 'MQTT_TLS_CERT';
    problems.push({ key: missing, expected: 'set together with the other of MQTT_TLS_CERT / MQTT_TLS_KEY' });
  }
  const dynsecHalf =
    (env['MQTT_DYNSEC_USERNAME']?.trim() ? 1 : 0) + (env['MQTT_DYNSEC_PASSWORD']?.trim() ? 1 : 0);
  if (dynsecHalf === 1) {
    const missing = env['MQTT_DYNSEC_USERNAME']?.trim() ? 'MQTT_DYNSEC_PASSWORD' : 'MQTT_DYNSEC_USERNAME';
    problems.push({
      key: missing,
      expected: 'set together with the other of MQTT_DYNSEC_USERNAME / MQTT_DYNSEC_PASSWORD',
    });
  }
  if (dynsecHalf > 0 && !env['MQTT_URL']?.trim())
    problems.push({
      key: 'MQTT_URL',
      expected: 'set when MQTT_DYNSEC_USERNAME is (the broker to provision)',
    });
  // PeakWatch's own client on a provisioned broker: a name no device can be given (device ids may not start so)
  const ownClient = env['MQTT_USERNAME']?.trim();
  if (dynsecHalf > 0 && ownClient && !ownClient.startsWith('peakwatch'))
    problems.push({
      key: 'MQTT_USERNAME',
      value: ownClient,
      expected: 'a name starting with peakwatch when MQTT_DYNSEC_USERNAME is set',
    });
  for (const key of ['ALERT_WEBHOOKS', 'EMITTER_WEBHOOKS'])
    if (env[key]?.trim() && !env['ALERT_WEBHOOK_SECRET']?.trim())
      problems.push({
        key: 'ALERT_WEBHOOK_SECRET',
        expected: `set when ${key} is (notifications are signed)`,
      });
  if (problems.length > 0) throw new ConfigError(problems);
  const p = parsed as Parsed;
  const absolute = (path: string): string => (isAbsolute(path) ? path : resolve(cwd, path));
  const dataDir = absolute(p.DATA_DIR!);
  const databaseUrl = p.DATABASE_URL;
  const stateStore: StateStoreConfig =
    databaseUrl === undefined
      ? { kind: 'sqlite', file: resolve(dataDir, SQLITE_FILE_NAME) }
      : databaseUrl.startsWith('sqlite:')
        ? { kind: 'sqlite', file: absolute(databaseUrl.slice('sqlite:'.length)) }
        : { kind: 'postgres', url: databaseUrl };
  return {
    mqtt: {
      port: p.MQTT_PORT!,
      host: p.MQTT_HOST!,
      ...(p.MQTT_URL ? { url: p.MQTT_URL } : {}),
      ...(p.MQTT_USERNAME ? { username: p.MQTT_USERNAME } : {}),
      ...(p.MQTT_PASSWORD ? { password: p.MQTT_PASSWORD } : {}),
      ...(p.MQTT_DYNSEC_USERNAME && p.MQTT_DYNSEC_PASSWORD
        ? { dynsec: { username: p.MQTT_DYNSEC_USERNAME, password: p.MQTT_DYNSEC_PASSWORD } }
        : {}),
      ...(p.MQTT_TLS_CERT && p.MQTT_TLS_KEY
        ? {
            tls: {
              port: p.MQTTS_PORT!,
              certFile: absolute(p.MQTT_TLS_CERT),
              keyFile: absolute(p.MQTT_TLS_KEY),
            },
          }
        : {}),
      maxConnections: p.MQTT_MAX_CONNECTIONS!,
      keepaliveSeconds: p.MQTT_KEEPALIVE_SECONDS!,
    },
    ingest: {
      maxPayloadBytes: p.MQTT_MAX_PAYLOAD_BYTES!,
      maxBatch: p.INGEST_MAX_BATCH!,
      maxFutureMs: p.INGEST_MAX_FUTURE_MS!,
      horizonMs: p.INGEST_HORIZON_DAYS! * 86_400_000,
      spoolMaxBytes: p.SPOOL_MAX_BYTES!,
    },
    http: { port: p.HTTP_PORT!, host: p.HTTP_HOST! },
    ...(p.METRICS_PORT ? { metrics: { port: p.METRICS_PORT, host: p.METRICS_HOST! } } : {}),
    api: {
      rateLimitPerMinute: p.API_RATE_LIMIT_PER_MINUTE!,
      ...(p.BROKER_HOOK_TOKEN ? { brokerHookToken: p.BROKER_HOOK_TOKEN } : {}),
    },
    alerts: {
      webhooks: p.ALERT_WEBHOOKS ?? [],
      ...(p.ALERT_WEBHOOK_SECRET ? { webhookSecret: p.ALERT_WEBHOOK_SECRET } : {}),
      escalateAfterMs: p.ALERT_ESCALATE_AFTER_MINUTES! * 60_000,
      emails: p.ALERT_EMAILS ?? [],
      languages: p.ALERT_LANGUAGES!,
      ...(p.ALERT_SMTP_URL ? { smtpUrl: p.ALERT_SMTP_URL } : {}),
      emailFrom: p.ALERT_EMAIL_FROM!,
      incidents: { minAlerts: p.INCIDENT_MIN_ALERTS!, waitMs: p.INCIDENT_WAIT_MINUTES! * 60_000 },
    },
    reports: {
      endpoints: p.REPORT_ENDPOINTS ?? [],
      emitterWebhooks: p.EMITTER_WEBHOOKS ?? [],
      settleMs: p.REPORT_SETTLE_HOURS! * 3_600_000,
      annualBy: p.REPORT_ANNUAL_BY!,
    },
    imports: { maxBytes: p.IMPORT_MAX_MB! * 1_048_576 },
    retention: {
      rawDays: p.RETENTION_RAW_DAYS!,
      snapshotYears: p.RETENTION_SNAPSHOT_YEARS!,
      warnDays: p.RETENTION_WARN_DAYS!,
    },
    jobs: { leaseMs: p.JOB_LEASE_SECONDS! * 1000 },
    influx: {
      url: p.INFLUX_URL!.replace(/\/+$/, ''),
      database: p.INFLUX_DATABASE!,
      ...(p.INFLUX_TOKEN ? { token: p.INFLUX_TOKEN } : {}),
    },
    dataDir,
    seedsDir: absolute(p.SEEDS_DIR!),
    stateStore,
    tzReporting: p.TZ_REPORTING!,
    logLevel: p.LOG_LEVEL!,
    shutdownTimeoutMs: p.SHUTDOWN_TIMEOUT_MS!,
  };
}
