import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_KEYS, loadConfig } from '@peakwatch/config';
import {
  GRAFANA_DASHBOARDS_PATH,
  dashboardProvisioning,
  datasourceProvisioning,
} from '@peakwatch/dashboards';
import { parse } from 'yaml';

const ROOT = join(__dirname, '../..');

interface Service {
  image?: string;
  build?: string;
  command?: string[];
  profiles?: string[];
  environment?: Record<string, string | number>;
  volumes?: string[];
  healthcheck?: { test: string[] };
  ulimits?: { nofile?: { soft: number; hard: number } };
  depends_on?: Record<string, { condition: string; required?: boolean }>;
}
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const { influxdb, peakwatch, grafana, mosquitto } = compose.services;
const mosquittoInit = compose.services['mosquitto-init'];

/** The secrets the README has the operator write to `.env` beside the compose file. */
const DOT_ENV: Record<string, string> = {
  INFLUX_ADMIN_PASSWORD: 'a-random-password',
  INFLUX_TOKEN: 'a-random-token',
  GRAFANA_ADMIN_PASSWORD: 'another-random-password',
};

/**
 * A compose value interpolated as `docker compose up` does with `env` (its `.env`): `${VAR:-default}` falls back to
 * the default, `${VAR:?message}` fails without VAR.
 */
const withDefaults = (value: string | number, env: Record<string, string> = DOT_ENV): string =>
  String(value).replace(
    /\$\{(\w+)(?::([-?])([^}]*))?\}/g,
    (_m, name: string, op?: string, arg: string = '') => {
      if (env[name]) return env[name];
      if (op === '?') throw new Error(`${name}: ${arg}`);
      return op === '-' ? arg : '';
    },
  );

/** No Docker engine runs here: the compose file is checked as data, against what PeakWatch and Grafana read. */
describe('docker-compose.yml', () => {
  it('runs InfluxDB 2.x set up with the peakwatch organisation, bucket and a token', () => {
    expect(influxdb!.image).toMatch(/^influxdb:2\./);
    expect(influxdb!.environment).toMatchObject({
      DOCKER_INFLUXDB_INIT_MODE: 'setup',
      DOCKER_INFLUXDB_INIT_ORG: 'peakwatch',
      DOCKER_INFLUXDB_INIT_BUCKET: 'peakwatch',
    });
    expect(withDefaults(influxdb!.environment!['DOCKER_INFLUXDB_INIT_ADMIN_TOKEN']!)).not.toBe('');
  });

  it('configures PeakWatch only with keys it validates, and a configuration that loads', () => {
    const env = Object.fromEntries(
      Object.entries(peakwatch!.environment!).map(([key, value]) => [key, withDefaults(value)]),
    );
    expect(Object.keys(env).filter((key) => !(key in CONFIG_KEYS))).toEqual([]);
    const config = loadConfig(env, ROOT);
    // the bucket of the InfluxDB set-up is the database PeakWatch and Grafana use through the v1 API
    expect(config.influx.database).toBe(influxdb!.environment!['DOCKER_INFLUXDB_INIT_BUCKET']);
    expect(datasourceProvisioning.datasources[0]!.jsonData.dbName).toBe(config.influx.database);
    expect(config.influx.token).toBe(
      withDefaults(influxdb!.environment!['DOCKER_INFLUXDB_INIT_ADMIN_TOKEN']!),
    );
    expect(config.mqtt.url).toBeUndefined(); // the embedded broker unless MQTT_URL is given
  });

  it('mounts the Grafana provisioning and dashboards where the provider reads them, with what the data source expands', () => {
    expect(grafana!.volumes).toEqual(
      expect.arrayContaining([
        './seeds/grafana/provisioning:/etc/grafana/provisioning:ro',
        `./seeds/grafana/dashboards:${GRAFANA_DASHBOARDS_PATH}:ro`,
      ]),
    );
    for (const mount of grafana!.volumes!.filter((v) => v.startsWith('./')))
      expect(existsSync(join(ROOT, mount.split(':')[0]!))).toBe(true);
    // $INFLUX_URL and $INFLUX_TOKEN of the data source come from Grafana's environment
    const datasource = JSON.stringify(datasourceProvisioning);
    for (const name of [...datasource.matchAll(/\$(\w+)/g)].map((m) => m[1]!))
      expect(grafana!.environment).toHaveProperty(name);
    expect(withDefaults(grafana!.environment!['INFLUX_TOKEN']!)).toBe(
      withDefaults(peakwatch!.environment!['INFLUX_TOKEN']!),
    );
    const home = String(grafana!.environment!['GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH']);
    expect(home).toMatch(new RegExp(`^${GRAFANA_DASHBOARDS_PATH}/zh-CN/`)); // the Chinese dashboards first
    // a dashboard the mount holds, and one of those the providers read
    expect(
      existsSync(join(ROOT, 'seeds/grafana/dashboards', home.slice(GRAFANA_DASHBOARDS_PATH.length))),
    ).toBe(true);
    const providerPaths = dashboardProvisioning.providers.map((p) => `${p.options.path}/`);
    expect(providerPaths.some((path) => home.startsWith(path))).toBe(true);
  });

  it('starts each service once what it needs is healthy, and checks its own health', () => {
    for (const service of [influxdb, peakwatch, grafana, mosquitto])
      expect(service!.healthcheck?.test.length).toBeGreaterThan(0);
    expect(peakwatch!.depends_on).toMatchObject({ influxdb: { condition: 'service_healthy' } });
    expect(grafana!.depends_on).toMatchObject({
      influxdb: { condition: 'service_healthy' },
      peakwatch: { condition: 'service_healthy' },
    });
    // the health check asks PeakWatch's own /health on its HTTP port
    expect(peakwatch!.healthcheck!.test.join(' ')).toContain(
      `:${peakwatch!.environment!['HTTP_PORT']}/health`,
    );
  });

  it('lets each process that holds device connections open more files than the connections it accepts', () => {
    // a socket per connection, up to MQTT_MAX_CONNECTIONS (its default here), and the process's own files
    const connections = loadConfig({ INFLUX_URL: 'http://influxdb:8086' }).mqtt.maxConnections;
    for (const name of ['peakwatch', 'peakwatch-2', 'peakwatch-3', 'mosquitto']) {
      const files = compose.services[name]!.ulimits?.nofile ?? { soft: 0, hard: 0 };
      expect({ name, enough: files.soft >= connections + 1024 }).toEqual({ name, enough: true });
      expect(files.hard).toBeGreaterThanOrEqual(files.soft);
    }
  });

  it('offers an external Mosquitto as an optional profile, its clients provisioned by PeakWatch', () => {
    expect(mosquitto!.profiles).toEqual(['external-broker', 'ha']);
    expect(peakwatch!.depends_on!['mosquitto']).toEqual({ condition: 'service_healthy', required: false });
    const conf = readFileSync(join(ROOT, 'deploy/mosquitto/mosquitto.conf'), 'utf8');
    expect(conf).toMatch(/^listener 1883$/m);
    expect(conf).toMatch(/^allow_anonymous false$/m);
    // dynamic security, and nothing that would let a client in beside it
    expect(conf).toMatch(/^plugin \/usr\/lib\/mosquitto_dynamic_security\.so$/m);
    expect(conf).not.toMatch(/^(password_file|acl_file) /m);
    const file = /^plugin_opt_config_file (\S+)$/m.exec(conf)![1]!;
    // written by PeakWatch's dynsec-init on the volume mosquitto reads it from, before mosquitto starts
    expect(mosquittoInit!.profiles).toEqual(['external-broker', 'ha']);
    expect(mosquittoInit!.command).toEqual(expect.arrayContaining(['broker', 'dynsec-init', file]));
    expect(mosquitto!.depends_on).toEqual({
      'mosquitto-init': { condition: 'service_completed_successfully' },
    });
    const dataVolume = (service: typeof mosquitto) =>
      service!.volumes!.find((v) => file.startsWith(`${v.split(':')[1]}/`));
    expect(dataVolume(mosquittoInit)).toBe(dataVolume(mosquitto));
    // PeakWatch provisions with the same admin login the init file was written with
    for (const key of ['MQTT_USERNAME', 'MQTT_PASSWORD', 'MQTT_DYNSEC_USERNAME', 'MQTT_DYNSEC_PASSWORD'])
      expect(mosquittoInit!.environment![key]).toBe(peakwatch!.environment![key]);
  });

  it('offers three replicas on PostgreSQL as the ha profile, each with its own spool, configured alike', () => {
    const replicas = [peakwatch!, compose.services['peakwatch-2']!, compose.services['peakwatch-3']!];
    const postgres = compose.services['postgres']!;
    expect(postgres.profiles).toEqual(['ha']);
    expect(postgres.healthcheck!.test.join(' ')).toContain('pg_isready');
    for (const replica of replicas.slice(1)) {
      expect(replica.profiles).toEqual(['ha']);
      expect(replica.build).toBe(peakwatch!.build);
      expect(replica.environment).toEqual(peakwatch!.environment);
      expect(replica.healthcheck).toEqual(peakwatch!.healthcheck);
      for (const needed of ['influxdb', 'mosquitto', 'postgres'])
        expect(replica.depends_on![needed]).toEqual({ condition: 'service_healthy' });
    }
    // the first replica waits for PostgreSQL when the profile runs it, and needs it not otherwise
    expect(peakwatch!.depends_on!['postgres']).toEqual({ condition: 'service_healthy', required: false });
    // one DATA_DIR (ingest spool) per replica: never one volume for two processes
    const dataVolumes = replicas.map((r) => r.volumes!.find((v) => v.endsWith(':/data'))!.split(':')[0]);
    expect(new Set(dataVolumes).size).toBe(3);
    // with the .env of docs/deployment.md, "Replicas", every replica loads a configuration of a shared store and broker
    const ha = {
      ...DOT_ENV,
      POSTGRES_PASSWORD: 'a-postgres-password',
      DATABASE_URL: 'postgres://peakwatch:a-postgres-password@postgres:5432/peakwatch',
      MQTT_URL: 'mqtt://mosquitto:1883',
      MQTT_USERNAME: 'peakwatch-ingest',
      MQTT_PASSWORD: 'an-ingest-password',
      MQTT_DYNSEC_USERNAME: 'peakwatch-admin',
      MQTT_DYNSEC_PASSWORD: 'an-admin-password-of-32-characters',
    };
    const config = loadConfig(
      Object.fromEntries(
        Object.entries(peakwatch!.environment!).map(([key, value]) => [key, withDefaults(value, ha)]),
      ),
      ROOT,
    );
    expect(config.stateStore).toEqual({ kind: 'postgres', url: ha.DATABASE_URL });
    expect(config.mqtt.url).toBe(ha.MQTT_URL);
    const pg = postgres.environment!;
    expect(ha.DATABASE_URL).toBe(
      `postgres://${String(pg['POSTGRES_USER'])}:${withDefaults(pg['POSTGRES_PASSWORD']!, ha)}@postgres:5432/${String(pg['POSTGRES_DB'])}`,
    );
  });

  it('ships an EMQX configuration that asks PeakWatch, and nothing else, who may do what', () => {
    const hocon = readFileSync(join(ROOT, 'deploy/emqx/peakwatch.hocon'), 'utf8');
    // the two endpoints of test/e2e/broker-emqx-hook.spec.ts, with the token header and the fields they read
    for (const path of ['authenticate', 'authorize']) expect(hocon).toContain(`/api/v1/broker/emqx/${path}"`);
    expect(hocon.match(/"X-PeakWatch-Hook-Token" = /g)).toHaveLength(2);
    for (const field of ['username', 'password', 'clientid', 'peerhost', 'topic', 'action'])
      expect(hocon).toMatch(new RegExp(`^ +${field} = "\\$\\{${field}\\}"$`, 'm'));
    // EMQX's default file source ends in "allow all": it must be replaced, and no answer must mean no
    expect(hocon).toMatch(/^ +no_match = deny$/m);
    expect(hocon).toMatch(/^ +deny_action = disconnect$/m);
    expect(hocon).toMatch(/^ +sources = \[$/m);
    expect(hocon).not.toMatch(/type = file/);
  });

  it('has no default secret: without its .env it refuses to start, naming what is missing', () => {
    const secrets = [
      influxdb!.environment!['DOCKER_INFLUXDB_INIT_PASSWORD']!,
      influxdb!.environment!['DOCKER_INFLUXDB_INIT_ADMIN_TOKEN']!,
      peakwatch!.environment!['INFLUX_TOKEN']!,
      grafana!.environment!['GF_SECURITY_ADMIN_PASSWORD']!,
      grafana!.environment!['INFLUX_TOKEN']!,
    ];
    for (const value of secrets) expect(() => withDefaults(value, {})).toThrow(/set \w+ in \.env/);
    for (const value of secrets) expect(Object.values(DOT_ENV)).toContain(withDefaults(value));
  });

  it('declares every named volume it uses', () => {
    const named = Object.values(compose.services)
      .flatMap((s) => s.volumes ?? [])
      .map((v) => v.split(':')[0]!)
      .filter((source) => !source.startsWith('.'));
    expect(named.filter((v) => !(v in compose.volumes))).toEqual([]);
  });
});

/** Grafana beside `npm run demo` (docker-compose.demo.yml): checked as data too. */
describe('docker-compose.demo.yml', () => {
  const demo = parse(readFileSync(join(ROOT, 'docker-compose.demo.yml'), 'utf8')) as {
    services: Record<string, Service & { network_mode?: string }>;
  };
  const { grafana: viewer } = demo.services;

  it("reads the demo's own InfluxDB on loopback, with the same provisioning and dashboards as the deployment", () => {
    expect(Object.keys(demo.services)).toEqual(['grafana']);
    expect(viewer!.image).toBe(grafana!.image);
    expect(viewer!.volumes).toEqual(grafana!.volumes!.filter((v) => v.startsWith('./')));
    expect(viewer!.environment!['GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH']).toBe(
      grafana!.environment!['GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH'],
    );
    // the demo's influxd listens on 127.0.0.1:8086 (README, "Running it"): only the host's network reaches it
    expect(viewer!.network_mode).toBe('host');
    expect(withDefaults(viewer!.environment!['INFLUX_URL']!, {})).toBe('http://127.0.0.1:8086');
    const datasource = JSON.stringify(datasourceProvisioning);
    for (const name of [...datasource.matchAll(/\$(\w+)/g)].map((m) => m[1]!))
      expect(viewer!.environment).toHaveProperty(name);
  });

  it("serves on loopback, on a port that is not the demo's HTTP API, to anonymous viewers who cannot edit", () => {
    expect(viewer!.environment).toMatchObject({
      GF_SERVER_HTTP_ADDR: '127.0.0.1',
      GF_AUTH_ANONYMOUS_ENABLED: 'true',
      GF_AUTH_ANONYMOUS_ORG_ROLE: 'Viewer',
    });
    expect(String(viewer!.environment!['GF_SERVER_HTTP_PORT'])).not.toBe(CONFIG_KEYS.HTTP_PORT.default);
    expect(String(viewer!.environment!['GF_SERVER_HTTP_PORT'])).not.toBe(CONFIG_KEYS.MQTT_PORT.default);
  });
});
