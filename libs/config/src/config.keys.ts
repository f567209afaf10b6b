/**
 * Every configuration key PeakWatch reads (README, "Configuration"), with what it expects and its default.
 * This table is the one place keys are defined: `.env.example` and the README list exactly these (a unit spec checks).
 */
import { ID_CHARS, type Language } from '@peakwatch/contracts';

/** Entries of the receiver lists: `audience[@district]=url`, `org|district:id=url`, `audience[@district]=address`. */
const WEBHOOK_ENTRY = new RegExp(`^(facility_manager|regulator)(?:@(${ID_CHARS}))?=(https?://\\S+)$`);
const SUBMISSION_ENTRY = new RegExp(`^(org|district):(${ID_CHARS})=(https?://\\S+)$`);
const EMITTER_ENTRY = new RegExp(`^(${ID_CHARS})=(https?://\\S+)$`);
const EMAIL_ENTRY = new RegExp(
  `^(facility_manager|regulator)(?:@(${ID_CHARS}))?=([^\\s@,]+@[^\\s@,]+\\.[^\\s@,]+)$`,
);

export interface KeySpec<T> {
  /** What a valid value looks like, for error messages and docs. */
  expected: string;
  /** What the key does, for docs. */
  description: string;
  /** Used when the variable is unset or empty; keys without one are optional unless `required`. */
  default?: string;
  required?: boolean;
  /** A secret: its value is never shown, not even in a configuration error. */
  secret?: boolean;
  /** Returns the parsed value, or undefined when the raw value is invalid. */
  parse: (raw: string) => T | undefined;
}

const PORT = (raw: string): number | undefined => {
  const n = Number(raw);
  return /^\d+$/.test(raw) && n >= 1 && n <= 65_535 ? n : undefined;
};
const positiveInt = (raw: string): number | undefined => {
  const n = Number(raw);
  return /^\d+$/.test(raw) && n >= 1 ? n : undefined;
};
const nonEmpty = (raw: string): string | undefined => (raw.trim() ? raw : undefined);
const url =
  (...protocols: string[]) =>
  (raw: string): string | undefined => {
    try {
      return protocols.includes(new URL(raw).protocol) ? raw : undefined;
    } catch {
      return undefined;
    }
  };
/**
 * A comma-separated list of receivers: each entry must match `entry`, and `build` makes it (undefined: refused); one
 * bad entry makes the whole value bad.
 */
const listOf =
  <T>(entry: RegExp, build: (m: RegExpExecArray) => T | undefined) =>
  (raw: string): T[] | undefined => {
    const out: T[] = [];
    for (const e of raw
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean)) {
      const m = entry.exec(e);
      const built = m ? build(m) : undefined;
      if (built === undefined) return undefined;
      out.push(built);
    }
    return out;
  };
const httpUrl = url('http:', 'https:');

/** An alert receiver: a webhook for an audience, optionally of one district only. */
export interface AlertWebhook {
  audience: 'facility_manager' | 'regulator';
  district?: string;
  url: string;
}
const webhooks = listOf<AlertWebhook>(WEBHOOK_ENTRY, (m) =>
  httpUrl(m[3]!)
    ? { audience: m[1] as AlertWebhook['audience'], ...(m[2] ? { district: m[2] } : {}), url: m[3]! }
    : undefined,
);
/** Where an emitter's reports are submitted: per organisation, or per district of its sites. */
export interface ReportEndpoint {
  scope: 'org' | 'district';
  id: string;
  url: string;
}
const reportEndpoints = listOf<ReportEndpoint>(SUBMISSION_ENTRY, (m) =>
  httpUrl(m[3]!) ? { scope: m[1] as ReportEndpoint['scope'], id: m[2]!, url: m[3]! } : undefined,
);
/** Where an organisation's own notices go (its carbon-market warnings). */
export interface EmitterWebhook {
  org: string;
  url: string;
}
const emitterWebhooks = listOf<EmitterWebhook>(EMITTER_ENTRY, (m) =>
  httpUrl(m[2]!) ? { org: m[1]!, url: m[2]! } : undefined,
);
/** An alert e-mail recipient: an address for an audience, optionally of one district only. */
export interface AlertEmail {
  audience: 'facility_manager' | 'regulator';
  district?: string;
  address: string;
}
const emails = listOf<AlertEmail>(EMAIL_ENTRY, (m) => ({
  audience: m[1] as AlertEmail['audience'],
  ...(m[2] ? { district: m[2] } : {}),
  address: m[3]!,
}));
/** The language of each audience's notifications: `facility_manager=zh-CN,regulator=zh-CN`; an audience once. */
export type AudienceLanguages = Record<AlertEmail['audience'], Language>;
const audienceLanguages = (raw: string): AudienceLanguages | undefined => {
  const entries = listOf(
    /^(facility_manager|regulator)=(zh-CN|en)$/,
    (m) => [m[1]!, m[2] as Language] as const,
  )(raw);
  if (!entries || new Set(entries.map(([a]) => a)).size !== entries.length) return undefined;
  return { facility_manager: 'zh-CN', regulator: 'zh-CN', ...Object.fromEntries(entries) };
};
const timeZone = (raw: string): string | undefined => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: raw });
    return raw;
  } catch {
    return undefined;
  }
};
const oneOf =
  <T extends string>(...values: T[]) =>
  (raw: string): T | undefined =>
    (values as string[]).includes(raw) ? (raw as T) : undefined;
const identifier = (raw: string): string | undefined => (/^[A-Za-z0-9_-]{1,64}$/.test(raw) ? raw : undefined);

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const CONFIG_KEYS = {
  MQTT_PORT: {
    expected: 'a TCP port 1..65535',
    description: 'Port of the embedded MQTT broker (aedes); ignored when MQTT_URL is set.',
    default: '1883',
    parse: PORT,
  },
  MQTT_HOST: {
    expected: 'an interface address such as 0.0.0.0 or 127.0.0.1',
    description: 'Address the embedded MQTT broker listens on.',
    default: '0.0.0.0',
    parse: nonEmpty,
  },
  MQTT_URL: {
    expected: 'an mqtt://, mqtts://, ws:// or wss:// URL',
    description: 'External broker (Mosquitto, EMQX, HiveMQ). When set, no embedded broker is started.',
    parse: url('mqtt:', 'mqtts:', 'ws:', 'wss:'),
  },
  MQTT_USERNAME: {
    expected: 'a user name',
    description: "User name of PeakWatch's own client (ingest, alerts) on the external broker (MQTT_URL).",
    parse: nonEmpty,
  },
  MQTT_PASSWORD: {
    expected: 'a password',
    description: "Password of PeakWatch's own client on the external broker (MQTT_URL).",
    secret: true,
    parse: nonEmpty,
  },
  MQTT_DYNSEC_USERNAME: {
    expected: 'a user name starting with peakwatch (no device may take it)',
    description:
      "Admin client of Mosquitto's dynamic security on the external broker: when set, PeakWatch creates, rotates and deletes each device's broker client and its topics there (docs/deployment.md).",
    parse: (raw) => (raw.startsWith('peakwatch') ? raw : undefined),
  },
  MQTT_DYNSEC_PASSWORD: {
    expected: 'a password of at least 24 characters',
    description: 'Password of the dynamic security admin client (MQTT_DYNSEC_USERNAME).',
    secret: true,
    parse: (raw) => (raw.length >= 24 ? raw : undefined),
  },
  MQTTS_PORT: {
    expected: 'a TCP port 1..65535',
    description:
      "Port of the embedded broker's TLS listener (mqtts), opened when MQTT_TLS_CERT and MQTT_TLS_KEY are set.",
    default: '8883',
    parse: PORT,
  },
  MQTT_TLS_CERT: {
    expected: 'a path to a PEM certificate (chain)',
    description: "Certificate of the embedded broker's TLS listener.",
    parse: nonEmpty,
  },
  MQTT_TLS_KEY: {
    expected: 'a path to a PEM private key',
    description: "Private key of the embedded broker's TLS listener.",
    parse: nonEmpty,
  },
  MQTT_MAX_CONNECTIONS: {
    expected: 'a positive integer',
    description: 'Most client connections the embedded broker accepts at once; more are refused.',
    default: '20000',
    parse: positiveInt,
  },
  MQTT_KEEPALIVE_SECONDS: {
    expected: 'a positive integer (seconds)',
    description:
      "Keepalive of ingest's subscription on the external broker (MQTT_URL): a broker silent for 1.5 times as long is taken for gone and reconnected.",
    default: '60',
    parse: positiveInt,
  },
  MQTT_MAX_PAYLOAD_BYTES: {
    expected: 'a positive integer (bytes)',
    description: 'Largest message payload ingest accepts; larger ones are rejected (payload_too_large).',
    default: '262144',
    parse: positiveInt,
  },
  INGEST_MAX_BATCH: {
    expected: 'a positive integer',
    description:
      'Most readings in one message (a JSON array); larger batches are rejected (batch_too_large).',
    default: '1000',
    parse: positiveInt,
  },
  INGEST_MAX_FUTURE_MS: {
    expected: 'a positive integer (milliseconds)',
    description: 'How far ahead of the server clock a reading may be stamped (timestamp_in_future).',
    default: '300000',
    parse: positiveInt,
  },
  INGEST_HORIZON_DAYS: {
    expected: 'a positive integer (days)',
    description: 'How old a reading may be (timestamp_too_old); also the late-data horizon of analytics.',
    default: '35',
    parse: positiveInt,
  },
  SPOOL_MAX_BYTES: {
    expected: 'a positive integer (bytes)',
    description:
      'Disk budget of the ingest spool; when full, ingest stops acknowledging until InfluxDB drains it.',
    default: '1073741824',
    parse: positiveInt,
  },
  HTTP_PORT: {
    expected: 'a TCP port 1..65535',
    description: 'Port of the HTTP server (REST API, /health).',
    default: '3000',
    parse: PORT,
  },
  HTTP_HOST: {
    expected: 'an interface address such as 0.0.0.0 or 127.0.0.1',
    description: 'Address the HTTP server listens on.',
    default: '0.0.0.0',
    parse: nonEmpty,
  },
  METRICS_PORT: {
    expected: 'unset, or a TCP port 1..65535',
    description:
      'When set, /metrics is served only on this port (at METRICS_HOST), not on HTTP_PORT: keep it off the public address.',
    parse: PORT,
  },
  METRICS_HOST: {
    expected: 'an interface address such as 127.0.0.1',
    description: 'Address the separate /metrics listener (METRICS_PORT) binds.',
    default: '127.0.0.1',
    parse: nonEmpty,
  },
  ALERT_WEBHOOKS: {
    expected:
      'comma-separated audience[@district]=url, e.g. regulator@haidian=https://r.example/hook,facility_manager=https://f.example/hook',
    description:
      'Where alert notifications are POSTed, per audience (and district); unset: alerts go to MQTT and the API only.',
    parse: webhooks,
  },
  ALERT_WEBHOOK_SECRET: {
    expected: 'a secret of at least 16 characters',
    description:
      "Master key of the webhook signatures: each receiver's key is derived from it and its URL (`peakwatch webhook key <url>`).",
    secret: true,
    parse: (raw) => (raw.length >= 16 ? raw : undefined),
  },
  ALERT_EMAILS: {
    expected: 'comma-separated audience[@district]=address, e.g. regulator@haidian=energy@hd.example.cn',
    description: 'Who gets alert notifications by e-mail (needs ALERT_SMTP_URL); unset: no e-mail.',
    parse: emails,
  },
  ALERT_SMTP_URL: {
    expected: 'an smtp:// or smtps:// URL, e.g. smtps://user:password@mail.example.cn:465',
    description: 'The SMTP server alert e-mails are sent through.',
    parse: url('smtp:', 'smtps:'),
  },
  ALERT_LANGUAGES: {
    expected:
      'comma-separated audience=language (facility_manager or regulator; zh-CN or en), e.g. facility_manager=en',
    description:
      "The language of each audience's notifications and e-mails (docs/glossary.md); an audience not named gets zh-CN.",
    default: 'facility_manager=zh-CN,regulator=zh-CN',
    parse: audienceLanguages,
  },
  ALERT_EMAIL_FROM: {
    expected: 'an e-mail address',
    description: 'Sender of alert e-mails.',
    default: 'peakwatch@localhost',
    parse: (raw) => (/^[^\s@]+@[^\s@]+$/.test(raw) ? raw : undefined),
  },
  ALERT_ESCALATE_AFTER_MINUTES: {
    expected: 'a positive integer (minutes)',
    description:
      "A firing alert not acknowledged within this time is escalated once: to its district's regulator for the regulator's rules, as a reminder to the facility manager for the others.",
    default: '60',
    parse: positiveInt,
  },
  INCIDENT_MIN_ALERTS: {
    expected: 'a positive integer',
    description:
      'How many data-quality alerts of one declared cause (a gateway, a network segment, a site) make an incident: one notification per audience instead of one per alert. An outage of PeakWatch itself is an incident from its first alert.',
    default: '3',
    parse: positiveInt,
  },
  INCIDENT_WAIT_MINUTES: {
    expected: 'a positive integer (minutes)',
    description:
      'How long a data-quality alert is held to see whether others of its cause follow (as devices miss their readings at different minutes); one left alone is then notified by itself.',
    default: '5',
    parse: positiveInt,
  },
  REPORT_ENDPOINTS: {
    expected: 'comma-separated org:<id>=url or district:<id>=url',
    description:
      "Where emitters' reports are submitted (signed like alerts, with ALERT_WEBHOOK_SECRET); an organisation's own entry wins.",
    parse: reportEndpoints,
  },
  EMITTER_WEBHOOKS: {
    expected: 'comma-separated <org>=url, e.g. hd-tech-campus=https://energy.campus.example/peakwatch',
    description:
      "Where an organisation's own notices are POSTed (signed like alerts): the warning that its projected carbon-market shortfall exceeds the threshold it declared.",
    parse: emitterWebhooks,
  },
  REPORT_SETTLE_HOURS: {
    expected: 'a positive integer (hours)',
    description: 'How long after a month ends its report is generated, so that late readings are in.',
    default: '6',
    parse: positiveInt,
  },
  REPORT_ANNUAL_BY: {
    expected: 'a date MM-DD',
    description: 'The annual report of the year before is generated and submitted by this date.',
    default: '03-31',
    parse: (raw) => (/^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/.test(raw) ? raw : undefined),
  },
  IMPORT_MAX_MB: {
    expected: 'a positive integer (MiB)',
    description:
      'The largest file `POST /api/v1/imports` takes (a history import, docs/imports.md); the command line reads any size.',
    default: '200',
    parse: positiveInt,
  },
  RETENTION_RAW_DAYS: {
    expected: 'a positive integer (days)',
    description:
      "How long after its month's end a meter's raw readings are kept before the month is down-sampled to quarter snapshots (docs/retention.md); readings behind a submitted report, a baseline year or an open alert are never removed.",
    default: '400',
    parse: positiveInt,
  },
  RETENTION_SNAPSHOT_YEARS: {
    expected: 'an integer of at least 6 (years)',
    description:
      "How many years after the end of its year a down-sampled month's quarter snapshots are kept; the default meets the 5 years after the annual report (filed by 31 March) that the carbon-market rules require (docs/retention.md).",
    default: '6',
    parse: (raw) => {
      const n = positiveInt(raw);
      return n !== undefined && n >= 6 ? n : undefined;
    },
  },
  RETENTION_WARN_DAYS: {
    expected: 'a positive integer (days)',
    description:
      'How long before a month is down-sampled or its snapshots removed the retention job warns the operator (log and `peakwatch retention`); nothing is removed that was not announced this long before.',
    default: '30',
    parse: positiveInt,
  },
  API_RATE_LIMIT_PER_MINUTE: {
    expected: 'a positive integer (requests)',
    description: 'Requests one API key may make per minute; beyond it the API answers 429 with Retry-After.',
    default: '600',
    parse: positiveInt,
  },
  BROKER_HOOK_TOKEN: {
    expected: 'a secret of at least 32 characters',
    description:
      'Token an external EMQX sends (header X-PeakWatch-Hook-Token) when it asks PeakWatch to authenticate and authorize MQTT clients; unset, those endpoints answer 404.',
    secret: true,
    parse: (raw) => (raw.length >= 32 ? raw : undefined),
  },
  INFLUX_URL: {
    expected: 'an http:// or https:// URL, e.g. http://127.0.0.1:8086',
    description:
      'InfluxDB base URL (v1-compatible /write and /query). `demo` starts its own influxd and sets it.',
    required: true,
    parse: url('http:', 'https:'),
  },
  INFLUX_DATABASE: {
    expected: 'a database or bucket name (letters, digits, _ and -)',
    description: 'InfluxDB database (1.x) or bucket mapped through DBRP (2.x/3.x).',
    default: 'peakwatch',
    parse: identifier,
  },
  INFLUX_TOKEN: {
    expected: 'a token (2.x/3.x) or user:password (1.x with auth)',
    description: 'Sent as `Authorization: Token ...`; leave unset for an InfluxDB without authentication.',
    secret: true,
    parse: nonEmpty,
  },
  DATA_DIR: {
    expected: 'a directory path',
    description: 'Local state: SQLite state store, ingest spool, report files, the demo influxd data.',
    default: './.data',
    parse: nonEmpty,
  },
  SEEDS_DIR: {
    expected: 'a directory path',
    description: 'Registry, policy thresholds, emission factors, alert rules, scenarios.',
    default: './seeds',
    parse: nonEmpty,
  },
  DATABASE_URL: {
    expected: 'unset (SQLite in DATA_DIR), sqlite:<path>, or a postgres:// / postgresql:// URL',
    description: 'State store (credentials, API keys, alerts, outboxes, reports).',
    parse: (raw: string) => (/^sqlite:.+/.test(raw) ? raw : url('postgres:', 'postgresql:')(raw)),
  },
  JOB_LEASE_SECONDS: {
    expected: 'a positive integer (seconds)',
    description:
      "With replicas on PostgreSQL: how long a replica's lease on a scheduled run (KPIs, alerts, reports) lasts unrenewed before another replica takes the run over (docs/deployment.md).",
    default: '30',
    parse: positiveInt,
  },
  TZ_REPORTING: {
    expected: 'an IANA time zone such as Asia/Shanghai',
    description: 'Time zone of reporting periods (day, month and year boundaries).',
    default: 'Asia/Shanghai',
    parse: timeZone,
  },
  LOG_LEVEL: {
    expected: LOG_LEVELS.join(', '),
    description: 'Minimum level of the structured (pino, JSON, standard error) log.',
    default: 'info',
    parse: oneOf(...LOG_LEVELS),
  },
  SHUTDOWN_TIMEOUT_MS: {
    expected: 'a positive integer (milliseconds)',
    description: 'How long a graceful shutdown may take before the process exits anyway.',
    default: '10000',
    parse: positiveInt,
  },
} satisfies Record<string, KeySpec<unknown>>;

export type ConfigKey = keyof typeof CONFIG_KEYS;
