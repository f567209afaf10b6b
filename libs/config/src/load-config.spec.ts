import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_KEYS } from './config.keys';
import { ConfigError } from './config.error';
import { loadConfig } from './load-config';

const MINIMAL = { INFLUX_URL: 'http://127.0.0.1:8086' };

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env, '/srv/pw');
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => p.key);
    throw error;
  }
  return [];
}

describe('loadConfig', () => {
  it('applies the documented defaults (README, Configuration) and resolves paths against the working directory', () => {
    expect(loadConfig(MINIMAL, '/srv/pw')).toEqual({
      mqtt: { port: 1883, host: '0.0.0.0', maxConnections: 20_000, keepaliveSeconds: 60 },
      ingest: {
        maxPayloadBytes: 262_144,
        maxBatch: 1000,
        maxFutureMs: 300_000,
        horizonMs: 35 * 86_400_000,
        spoolMaxBytes: 1_073_741_824,
      },
      http: { port: 3000, host: '0.0.0.0' },
      api: { rateLimitPerMinute: 600 },
      alerts: {
        webhooks: [],
        escalateAfterMs: 3_600_000,
        emails: [],
        // Chinese first: both audiences' notifications in zh-CN
        languages: { facility_manager: 'zh-CN', regulator: 'zh-CN' },
        emailFrom: 'peakwatch@localhost',
        incidents: { minAlerts: 3, waitMs: 300_000 },
      },
      reports: { endpoints: [], emitterWebhooks: [], settleMs: 6 * 3_600_000, annualBy: '03-31' },
      imports: { maxBytes: 200 * 1_048_576 },
      // raw readings 400 days; snapshots the statutory 5 years after the annual report, to the end of year + 6
      retention: { rawDays: 400, snapshotYears: 6, warnDays: 30 },
      jobs: { leaseMs: 30_000 },
      influx: { url: 'http://127.0.0.1:8086', database: 'peakwatch' },
      dataDir: '/srv/pw/.data',
      seedsDir: '/srv/pw/seeds',
      stateStore: { kind: 'sqlite', file: '/srv/pw/.data/peakwatch.sqlite' },
      tzReporting: 'Asia/Shanghai',
      logLevel: 'info',
      shutdownTimeoutMs: 10_000,
    });
  });

  it('reads every key it is given', () => {
    const config = loadConfig(
      {
        MQTT_PORT: '11883',
        MQTT_HOST: '127.0.0.1',
        MQTT_URL: 'mqtts://broker.example:8883',
        MQTT_USERNAME: 'ingest',
        MQTT_PASSWORD: 'pw',
        MQTTS_PORT: '18883',
        MQTT_TLS_CERT: 'tls/cert.pem',
        MQTT_TLS_KEY: '/etc/pw/key.pem',
        MQTT_MAX_CONNECTIONS: '500',
        MQTT_MAX_PAYLOAD_BYTES: '1024',
        INGEST_MAX_BATCH: '10',
        INGEST_MAX_FUTURE_MS: '1000',
        INGEST_HORIZON_DAYS: '2',
        SPOOL_MAX_BYTES: '4096',
        HTTP_PORT: '8080',
        HTTP_HOST: '127.0.0.1',
        API_RATE_LIMIT_PER_MINUTE: '60',
        ALERT_WEBHOOKS:
          'regulator@haidian=https://r.example/hook, facility_manager=http://127.0.0.1:9000/alerts',
        ALERT_WEBHOOK_SECRET: 'a-secret-of-16-chars',
        ALERT_ESCALATE_AFTER_MINUTES: '30',
        ALERT_EMAILS: 'regulator@haidian=energy@hd.example.cn',
        ALERT_LANGUAGES: 'facility_manager=en',
        ALERT_SMTP_URL: 'smtp://127.0.0.1:2525',
        ALERT_EMAIL_FROM: 'alerts@peakwatch.example',
        REPORT_ENDPOINTS: 'district:haidian=https://r.example/reports',
        EMITTER_WEBHOOKS: 'hd-tech-campus=https://e.example/notices',
        REPORT_SETTLE_HOURS: '12',
        REPORT_ANNUAL_BY: '04-30',
        JOB_LEASE_SECONDS: '12',
        IMPORT_MAX_MB: '5',
        RETENTION_RAW_DAYS: '2200',
        RETENTION_SNAPSHOT_YEARS: '10',
        RETENTION_WARN_DAYS: '14',
        INFLUX_URL: 'https://influx.example/',
        INFLUX_DATABASE: 'energy',
        INFLUX_TOKEN: 'secret-token',
        DATA_DIR: '/var/lib/peakwatch',
        SEEDS_DIR: 'conf/seeds',
        DATABASE_URL: 'postgres://pw:pw@db:5432/peakwatch',
        TZ_REPORTING: 'UTC',
        LOG_LEVEL: 'debug',
        SHUTDOWN_TIMEOUT_MS: '2500',
      },
      '/srv/pw',
    );
    expect(config).toEqual({
      mqtt: {
        port: 11883,
        host: '127.0.0.1',
        url: 'mqtts://broker.example:8883',
        username: 'ingest',
        password: 'pw',
        tls: { port: 18883, certFile: '/srv/pw/tls/cert.pem', keyFile: '/etc/pw/key.pem' },
        maxConnections: 500,
        keepaliveSeconds: 60,
      },
      ingest: {
        maxPayloadBytes: 1024,
        maxBatch: 10,
        maxFutureMs: 1000,
        horizonMs: 2 * 86_400_000,
        spoolMaxBytes: 4096,
      },
      http: { port: 8080, host: '127.0.0.1' },
      api: { rateLimitPerMinute: 60 },
      alerts: {
        webhooks: [
          { audience: 'regulator', district: 'haidian', url: 'https://r.example/hook' },
          { audience: 'facility_manager', url: 'http://127.0.0.1:9000/alerts' },
        ],
        webhookSecret: 'a-secret-of-16-chars',
        escalateAfterMs: 1_800_000,
        emails: [{ audience: 'regulator', district: 'haidian', address: 'energy@hd.example.cn' }],
        languages: { facility_manager: 'en', regulator: 'zh-CN' },
        smtpUrl: 'smtp://127.0.0.1:2525',
        emailFrom: 'alerts@peakwatch.example',
        incidents: { minAlerts: 3, waitMs: 300_000 },
      },
      reports: {
        endpoints: [{ scope: 'district', id: 'haidian', url: 'https://r.example/reports' }],
        emitterWebhooks: [{ org: 'hd-tech-campus', url: 'https://e.example/notices' }],
        settleMs: 12 * 3_600_000,
        annualBy: '04-30',
      },
      imports: { maxBytes: 5 * 1_048_576 },
      retention: { rawDays: 2200, snapshotYears: 10, warnDays: 14 },
      jobs: { leaseMs: 12_000 },
      influx: { url: 'https://influx.example', database: 'energy', token: 'secret-token' },
      dataDir: '/var/lib/peakwatch',
      seedsDir: '/srv/pw/conf/seeds',
      stateStore: { kind: 'postgres', url: 'postgres://pw:pw@db:5432/peakwatch' },
      tzReporting: 'UTC',
      logLevel: 'debug',
      shutdownTimeoutMs: 2500,
    });
  });

  it('accepts an explicit SQLite file', () => {
    expect(loadConfig({ ...MINIMAL, DATABASE_URL: 'sqlite:state/pw.db' }, '/srv/pw').stateStore).toEqual({
      kind: 'sqlite',
      file: '/srv/pw/state/pw.db',
    });
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ ...MINIMAL, MQTT_URL: '', HTTP_PORT: ' ' }, '/srv/pw').http.port).toBe(3000);
  });

  it.each([
    ['MQTT_PORT', '0'],
    ['MQTT_PORT', '65536'],
    ['MQTT_PORT', '18.5'],
    ['HTTP_PORT', 'http'],
    ['MQTT_URL', 'http://broker:1883'],
    ['MQTT_URL', 'not a url'],
    ['INFLUX_URL', 'influx:8086'],
    ['INFLUX_DATABASE', 'energy db'],
    ['DATABASE_URL', 'mysql://db/pw'],
    ['TZ_REPORTING', 'Beijing'],
    ['LOG_LEVEL', 'verbose'],
    ['SHUTDOWN_TIMEOUT_MS', '-1'],
    // less than the statutory keeping period (docs/retention.md)
    ['RETENTION_SNAPSHOT_YEARS', '5'],
    ['RETENTION_RAW_DAYS', '0'],
    ['ALERT_LANGUAGES', 'regulator=fr'],
    ['ALERT_LANGUAGES', 'regulator=en,regulator=zh-CN'],
  ])('rejects %s=%j', (key, value) => {
    expect(problemsOf({ ...MINIMAL, [key]: value })).toEqual([key]);
  });

  it('needs both halves of the TLS listener', () => {
    expect(problemsOf({ ...MINIMAL, MQTT_TLS_CERT: 'cert.pem' })).toEqual(['MQTT_TLS_KEY']);
  });

  it('needs both halves of the dynamic security login, and the external broker it provisions', () => {
    const broker = { MQTT_URL: 'mqtt://broker:1883' };
    const admin = {
      MQTT_DYNSEC_USERNAME: 'peakwatch-admin',
      MQTT_DYNSEC_PASSWORD: 'admin-password-0123456789',
    };
    expect(problemsOf({ ...MINIMAL, ...broker, MQTT_DYNSEC_USERNAME: 'peakwatch-admin' })).toEqual([
      'MQTT_DYNSEC_PASSWORD',
    ]);
    expect(problemsOf({ ...MINIMAL, ...broker, MQTT_DYNSEC_PASSWORD: admin.MQTT_DYNSEC_PASSWORD })).toEqual([
      'MQTT_DYNSEC_USERNAME',
    ]);
    expect(problemsOf({ ...MINIMAL, ...admin })).toEqual(['MQTT_URL']);
    expect(loadConfig({ ...MINIMAL, ...broker, ...admin }).mqtt.dynsec).toEqual({
      username: 'peakwatch-admin',
      password: 'admin-password-0123456789',
    });
  });

  it("keeps PeakWatch's broker clients out of the names a device can take, and the admin's password long", () => {
    // a device named `admin` would otherwise be provisioned over the broker's admin client
    const broker = {
      ...MINIMAL,
      MQTT_URL: 'mqtt://broker:1883',
      MQTT_DYNSEC_PASSWORD: 'admin-password-0123456789',
    };
    expect(problemsOf({ ...broker, MQTT_DYNSEC_USERNAME: 'admin' })).toEqual(['MQTT_DYNSEC_USERNAME']);
    expect(
      problemsOf({ ...broker, MQTT_DYNSEC_USERNAME: 'peakwatch-admin', MQTT_USERNAME: 'ingest' }),
    ).toEqual(['MQTT_USERNAME']);
    expect(
      problemsOf({
        ...broker,
        MQTT_DYNSEC_USERNAME: 'peakwatch-admin',
        MQTT_DYNSEC_PASSWORD: 'short-password',
      }),
    ).toEqual(['MQTT_DYNSEC_PASSWORD']);
  });

  it('lists every bad or missing key in one error, with what each expects', () => {
    let thrown: unknown;
    try {
      loadConfig({ MQTT_PORT: 'abc', TZ_REPORTING: 'Mars/Base', LOG_LEVEL: 'loud' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const message = (thrown as Error).message;
    expect(message).toContain('Invalid configuration (4 problems)');
    expect(message).toContain('MQTT_PORT="abc": expected a TCP port 1..65535');
    expect(message).toContain('INFLUX_URL is required: expected an http:// or https:// URL');
    expect(message).toContain('TZ_REPORTING="Mars/Base": expected an IANA time zone');
    expect(message).toContain('LOG_LEVEL="loud": expected fatal, error, warn, info, debug, trace, silent');
  });

  it("refuses an organisation's receiver that is not <org>=url, and one without the secret that signs", () => {
    const problems = (env: NodeJS.ProcessEnv): string[] => {
      try {
        loadConfig({ ...MINIMAL, ...env });
      } catch (error) {
        return (error as ConfigError).problems.map((p) => `${p.key}: ${p.expected}`);
      }
      return [];
    };
    expect(
      problems({
        EMITTER_WEBHOOKS: 'org:hd-tech-campus=https://e.example',
        ALERT_WEBHOOK_SECRET: 'x'.repeat(16),
      }),
    ).toEqual([
      'EMITTER_WEBHOOKS: comma-separated <org>=url, e.g. hd-tech-campus=https://energy.campus.example/peakwatch',
    ]);
    expect(problems({ EMITTER_WEBHOOKS: 'hd-tech-campus=https://e.example' })).toEqual([
      'ALERT_WEBHOOK_SECRET: set when EMITTER_WEBHOOKS is (notifications are signed)',
    ]);
  });

  it('names a bad key without showing a secret: secret keys hidden, passwords and tokens in URLs masked', () => {
    let thrown: unknown;
    try {
      loadConfig({
        ...MINIMAL,
        ALERT_WEBHOOK_SECRET: 'hunter2-short',
        ALERT_SMTP_URL: 'smtp://mailer:Pa55word@mail.example.cn:99999',
        DATABASE_URL: 'mysql://app:S3cr3t-pw@db.example.cn/peakwatch',
        MQTT_URL: 'tcp://ingest:Br0ker-pw@broker:1883',
        ALERT_WEBHOOKS: 'regulator=ftp://r.example/hook?token=T0ken-value&x=1',
      });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const message = (thrown as Error).message;
    for (const secret of ['hunter2', 'Pa55word', 'S3cr3t-pw', 'Br0ker-pw', 'T0ken-value'])
      expect(message).not.toContain(secret);
    expect((thrown as ConfigError).problems.map((p) => p.key)).toEqual([
      'MQTT_URL',
      'ALERT_WEBHOOKS',
      'ALERT_WEBHOOK_SECRET',
      'ALERT_SMTP_URL',
      'DATABASE_URL',
    ]);
    expect(message).toContain('ALERT_WEBHOOK_SECRET is invalid (a secret: its value is not shown)');
    expect(message).toContain('ALERT_SMTP_URL="smtp://mailer:***@mail.example.cn:99999"');
    expect(message).toContain('DATABASE_URL="mysql://app:***@db.example.cn/peakwatch"');
    expect(message).toContain('token=***&x=1');
  });
});

describe('configuration documentation', () => {
  const root = join(__dirname, '../../..');
  const keys = Object.keys(CONFIG_KEYS);

  it('.env.example documents exactly the keys PeakWatch validates', () => {
    const documented = [
      ...readFileSync(join(root, '.env.example'), 'utf8').matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm),
    ].map((m) => m[1]);
    expect([...documented].sort()).toEqual([...keys].sort());
  });

  it('the README configuration table lists every key', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const documented = [...readme.matchAll(/^\| `([A-Z][A-Z0-9_]+)` +\|/gm)].map((m) => m[1]);
    expect([...documented].sort()).toEqual([...keys].sort());
  });
});
