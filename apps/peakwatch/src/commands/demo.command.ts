import { join, resolve } from 'node:path';
import pino from 'pino';
import { loadConfig, type AppConfig } from '@peakwatch/config';
import { anchoredAt, loadScenario, runScenario } from '@peakwatch/device-sim';
import { KpiCron } from '@peakwatch/analytics';
import { readKpis, utcOffsetMs } from '@peakwatch/metering';
import { SpoolService } from '@peakwatch/ingest';
import { CredentialsRepository } from '@peakwatch/state';
import { InfluxClient, ManagedInfluxd } from '@peakwatch/influx';
import { ReportService } from '@peakwatch/reporting';
import { AlertEvaluator, type AlertNotification } from '@peakwatch/alerts';
import { canConnect, freePort } from '@peakwatch/process';
import { LiveEvents, UsageError, createApp, onShutdownSignal } from '@peakwatch/runtime';
import { ApiKeysRepository } from '@peakwatch/api';
import type { Language } from '@peakwatch/contracts';
import { cliText, padColumns } from '../cli-language';
import { ALL_APPS } from '../all-apps';
import { publishDemo, unpublishDemo } from './running-demo';

/** How often the demo looks whether ingest's spool has drained (ms). */
const SPOOL_POLL_MS = 200;

/** Port of the demo's own influxd when INFLUX_URL is unset. */
export const DEMO_INFLUX_PORT = 8086;
/** The scenario the demo simulates, under SEEDS_DIR. */
export const DEMO_SCENARIO = 'scenarios/haidian-campus.yaml';
/**
 * How far back the demo's history goes: the whole previous month (so that its report has content) and this month so
 * far, in the reporting zone; readings that old must pass ingest's horizon (INGEST_HORIZON_DAYS), set to this many
 * days unless the environment says otherwise.
 */
const DEMO_HORIZON_DAYS = 70;
/** The sample scenario's faults are timed from this long before now (they fill its two days after the start). */
const FAULTS_BEFORE_NOW_MS = 2 * 86_400_000;
/** The sample scenario's key emitter, whose report the demo generates. */
export const DEMO_EMITTER = 'hd-tech-campus';
/** Seed of the demo's simulation. */
export const DEMO_SEED = 1;
/** The building whose KPIs and live stream the demo suggests looking at. */
const DEMO_STREAM_SITE = 'hd-b1';
/** The sample scenario's district, whose regulator the demo suggests being. */
const DEMO_DISTRICT = 'haidian';
/** Where docker-compose.demo.yml's Grafana answers. */
const DEMO_GRAFANA_URL = 'http://localhost:3001';
/** Width of the entity column of the KPIs the demo prints (terminal columns). */
const ENTITY_COLUMNS = 18;

/** The command line's texts in the demo's language. */
type Text = ReturnType<typeof cliText>;

/**
 * `peakwatch demo`: starts a private influxd with its data under DATA_DIR/influxdb, the all-in-one process with the
 * embedded broker, and the simulator on the sample scenario (a short backfill, then real time) with device secrets
 * issued at start; prints the endpoints, in `language` (the commands to copy as they are).
 * SIGINT/SIGTERM stop all three; influxd is also killed by the kernel if this process dies (see ManagedProcess).
 */
export async function demoCommand(
  env: NodeJS.ProcessEnv = process.env,
  language: Language = 'en',
): Promise<void> {
  const t = cliText(language);
  const influxUrl = new URL(env['INFLUX_URL'] ?? `http://127.0.0.1:${DEMO_INFLUX_PORT}`);
  if (!['127.0.0.1', 'localhost'].includes(influxUrl.hostname) || influxUrl.protocol !== 'http:') {
    throw new UsageError(t('demo.notLoopback', { url: influxUrl.toString() }));
  }
  // on loopback unless told otherwise: the demo's devices and API keys are for this machine only
  const config = loadConfig({
    HTTP_HOST: '127.0.0.1',
    MQTT_HOST: '127.0.0.1',
    INGEST_HORIZON_DAYS: String(DEMO_HORIZON_DAYS),
    ...env,
    INFLUX_URL: influxUrl.origin,
  });
  const scenario = loadScenario(resolve(config.seedsDir, DEMO_SCENARIO));
  const httpPort = Number(influxUrl.port || 80);
  if (await canConnect(httpPort)) {
    throw new Error(
      t('demo.portInUse', {
        port: httpPort,
        command: `INFLUX_URL=http://127.0.0.1:${await freePort()} npm run demo`,
      }),
    );
  }
  const influxd = await ManagedInfluxd.start({
    dataDir: resolve(config.dataDir, 'influxdb'),
    httpPort,
    rpcPort: await freePort(),
  });
  let app;
  try {
    app = await createApp(config, ALL_APPS);
  } catch (error) {
    await influxd.stop();
    throw error;
  }

  // Fresh secrets for the simulated devices at every start, handed to the simulator in memory: none is written.
  const credentials: Record<string, string> = {};
  const repository = app.get(CredentialsRepository);
  for (const site of scenario.sites) {
    for (const device of site.devices)
      credentials[device.id] = await repository.issue(device.id, 'device', site.id);
  }
  // Alerts as they fire and resolve, on standard output (the regulators' and facility managers' webhooks get them too)
  const live = app.get(LiveEvents);
  for (const site of scenario.sites)
    live.ofSite(site.id).subscribe((event) => {
      if (event.type !== 'alert') return;
      const a = event.data as AlertNotification;
      const alert = t('demo.alert', {
        state: t(`demo.state.${a.state}`),
        rule: a.rule.id,
        entity: a.entity.id,
        severity: t(`demo.severity.${a.severity}`),
        audience: t(`demo.audience.${a.audience}`),
        value: a.value === null ? t('demo.noValue') : String(Math.round(a.value * 1000) / 1000),
        comparison: t(`demo.comparison.${a.comparison}`),
        threshold: a.threshold,
        title: a.rule.title,
      });
      process.stdout.write(`${alert}\n`);
    });
  const log = pino({ name: 'sim', level: config.logLevel }, pino.destination({ fd: 2, sync: true }));
  const stopSimulator = new AbortController();
  const stepMs = scenario.intervalSeconds * 1000;
  const historyFrom = previousMonthStart(config.tzReporting, Date.now());
  const truthFile = join(config.dataDir, 'sim', 'ground-truth.json');
  const simulator = runScenario({
    // its faults and the data centre's drift in the last days before now, as the scenario has them after its start
    scenario: anchoredAt(scenario, Math.floor((Date.now() - FAULTS_BEFORE_NOW_MS) / stepMs) * stepMs),
    seed: DEMO_SEED,
    fromMs: historyFrom,
    speed: Number.POSITIVE_INFINITY,
    brokerUrl: config.mqtt.url ?? `mqtt://127.0.0.1:${config.mqtt.port}`,
    credentials,
    qos: 1,
    truthFile,
    log: (message, fields) => log.info(fields ?? {}, message),
    signal: stopSimulator.signal,
    onCaughtUp: () => {
      // The history is in: compute the KPIs now rather than at the next quarter, and show yesterday's.
      void (async () => {
        const spool = app.get(SpoolService);
        while (spool.depth > 0) await new Promise((resolve) => setTimeout(resolve, SPOOL_POLL_MS));
        await app.get(KpiCron).runOnce(Date.now());
        process.stdout.write(await kpiSummary(app.get(InfluxClient), config, t));
        await app.get(AlertEvaluator).runOnce(Date.now()); // and every minute from now on
        // the sample emitter's report of the month before, whole in the history: its headline figures
        const previous = localDate(config.tzReporting, historyFrom).slice(0, 7);
        const { version, report } = await app.get(ReportService).generate(DEMO_EMITTER, previous);
        const grid = report.energy.carriers.find((c) => c.carrier === 'grid_electricity')!;
        const reportLines = [
          t('demo.report', {
            organisation: report.organisation.name,
            month: previous,
            version: version.version,
            completeness: (100 * report.completeness).toFixed(1),
          }),
          t('demo.reportFigures', {
            gridKwh: grid.quantity.toFixed(0),
            tce: report.energy.totalTce.toFixed(1),
            locationT: report.emissions.totalLocationT.toFixed(1),
            marketT: report.emissions.totalMarketT.toFixed(1),
          }),
          t('demo.reportFiles', {
            pdf: app.get(ReportService).path(DEMO_EMITTER, previous, version.version, 'pdf'),
          }),
        ];
        process.stdout.write(`${reportLines.join('\n')}\n`);
        process.stdout.write(
          await tryThese(app.get(ApiKeysRepository), config, t, {
            month: previous,
            evidence: app.get(ReportService).path(DEMO_EMITTER, previous, version.version, 'evidence'),
          }),
        );
      })().catch((error: unknown) => log.error({ err: error }, 'could not show the KPIs'));
    },
  }).catch((error: unknown) => log.error({ err: error }, 'simulator stopped'));

  onShutdownSignal(async () => {
    unpublishDemo(config.dataDir);
    stopSimulator.abort();
    await simulator;
    await app.close();
    await influxd.stop();
  }, config.shutdownTimeoutMs);
  publishDemo(config.dataDir, { pid: process.pid, influxUrl: config.influx.url });
  process.stdout.write(endpoints(config, t, { scenario: scenario.name, truthFile, historyFrom }));
}

/** Midnight of the first day of the month before `nowMs`'s, in `timeZone`. */
function previousMonthStart(timeZone: string, nowMs: number): number {
  const local = new Date(nowMs + utcOffsetMs(timeZone, nowMs));
  const utc = Date.UTC(local.getUTCFullYear(), local.getUTCMonth() - 1, 1);
  return utc - utcOffsetMs(timeZone, utc);
}

/** The date (YYYY-MM-DD) of `ms` in `timeZone`. */
const localDate = (timeZone: string, ms: number): string =>
  new Date(ms + utcOffsetMs(timeZone, ms)).toISOString().slice(0, 10);

const loopback = (host: string): string => (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);
const httpUrl = (config: AppConfig): string => `http://${loopback(config.http.host)}:${config.http.port}`;

/**
 * Commands to try beside the demo, for each of its users, which work as printed from this checkout (the commands that
 * read InfluxDB find the demo's in DATA_DIR/demo.json): a facility manager's building (KPIs, live stream), the
 * emitter's report and a verifier's check of its evidence, the district regulator's alerts and KPIs. The API keys are
 * made for the purpose (a facility manager's of one building, a regulator's of the district) and printed here once,
 * as `apikey create` prints a key. The comments are in the demo's language, the commands as they are.
 */
async function tryThese(
  keys: ApiKeysRepository,
  config: AppConfig,
  t: Text,
  report: { month: string; evidence: string },
): Promise<string> {
  const day = (daysAgo: number): string => localDate(config.tzReporting, Date.now() - daysAgo * 86_400_000);
  const key = async (role: 'facility_manager' | 'regulator', scope: string): Promise<string> =>
    (await keys.create({ name: `demo-${role.replace('_', '-')}`, role, scope: [scope] })).key;
  const manager = await key('facility_manager', DEMO_STREAM_SITE);
  const regulator = await key('regulator', DEMO_DISTRICT);
  const api = `${httpUrl(config)}/api/v1`;
  return [
    t('demo.tryThese'),
    `  # ${t('demo.tryManager', { site: DEMO_STREAM_SITE })}`,
    `  npm run kpi -- --site ${DEMO_STREAM_SITE} --from ${day(1)} --to ${day(0)}`,
    `  curl -N -H 'Authorization: Bearer ${manager}' ${api}/sites/${DEMO_STREAM_SITE}/stream`,
    `  # ${t('demo.tryEmitter', { organisation: DEMO_EMITTER, month: report.month })}`,
    `  npm run report -- --org ${DEMO_EMITTER} --month ${report.month}`,
    `  npm run peakwatch -- report verify ${report.evidence}`,
    `  # ${t('demo.tryRegulator', { district: DEMO_DISTRICT })}`,
    `  curl -s -H 'Authorization: Bearer ${regulator}' ${api}/alerts`,
    `  curl -s -H 'Authorization: Bearer ${regulator}' '${api}/kpis?scope=district&entity=${DEMO_DISTRICT}&period=1d&from=${day(1)}&to=${day(0)}'`,
    '',
  ].join('\n');
}

function endpoints(
  config: AppConfig,
  t: Text,
  simulator: { scenario: string; truthFile: string; historyFrom: number },
): string {
  const http = httpUrl(config);
  // Grafana with the provisioned dashboards against this influxd (docker-compose.demo.yml)
  const dashboards = `${
    config.influx.url === `http://127.0.0.1:${DEMO_INFLUX_PORT}`
      ? ''
      : `DEMO_INFLUX_URL=${config.influx.url} `
  }docker compose -f docker-compose.demo.yml up`;
  return [
    t('demo.running'),
    t('demo.mqtt', { url: config.mqtt.url ?? `mqtt://${loopback(config.mqtt.host)}:${config.mqtt.port}` }),
    t('demo.http', { health: `${http}/health`, api: `${http}/api/v1` }),
    t('demo.influx', { url: config.influx.url, database: config.influx.database }),
    t('demo.simulator', {
      scenario: simulator.scenario,
      since: localDate(config.tzReporting, simulator.historyFrom),
      truth: simulator.truthFile,
    }),
    t('demo.dashboards', { command: dashboards, url: DEMO_GRAFANA_URL }),
    t('demo.data', { dir: config.dataDir }),
    '',
  ].join('\n');
}

/** The main KPIs of yesterday (reporting zone) for every site, district and the city, as printed by the demo. */
async function kpiSummary(influx: InfluxClient, config: AppConfig, t: Text): Promise<string> {
  const offset = utcOffsetMs(config.tzReporting, Date.now());
  const dayMs = 86_400_000;
  const yesterday = Math.floor((Date.now() + offset) / dayMs) * dayMs - offset - dayMs;
  // each KPI shown, as its figure in the text of demo.kpi.<kpi>
  const shown: Record<string, (v: number) => string> = {
    energy_kwh: (v) => v.toFixed(0),
    eui_kwh_m2: (v) => v.toFixed(3),
    pue: (v) => v.toFixed(2),
    renewable_share: (v) => (100 * v).toFixed(1),
    co2_t: (v) => v.toFixed(2),
  };
  const lines = [
    t('demo.kpis', {
      day: new Date(yesterday + offset).toISOString().slice(0, 10),
      zone: config.tzReporting,
    }),
  ];
  for (const scope of ['site', 'district', 'city'] as const) {
    const kpis = await readKpis(influx, { scope, period: '1d', fromMs: yesterday, toMs: yesterday + 1 });
    const entities = [...new Set(kpis.map((k) => k.entity))].sort();
    for (const entity of entities) {
      const of = kpis.filter((k) => k.entity === entity && !k.category && shown[k.kpi] && k.value !== null);
      const completeness = of[0]?.completeness ?? 0;
      const label = scope === 'site' ? entity : t(`demo.entityOf.${scope}`, { entity });
      lines.push(
        t('demo.kpiLine', {
          entity: padColumns(label, ENTITY_COLUMNS),
          kpis: of
            .map((k) => t(`demo.kpi.${k.kpi}`, { value: shown[k.kpi]!(k.value!) }))
            .join(t('list.items')),
          completeness: (100 * completeness).toFixed(0),
        }),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
