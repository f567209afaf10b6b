import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScenario, runScenario } from '@peakwatch/device-sim';
import type { InfluxClient } from '@peakwatch/influx';
import { MosquittoDynsec } from '@peakwatch/mqtt';
import { freePort } from '@peakwatch/process';
import { loadRegistry } from '@peakwatch/registry';
import { CredentialsRepository, StateStore } from '@peakwatch/state';
import { CLI, ROOT, buildDist } from '../support/build';
import { HOUR } from '../support/calendar';
import { startInfluxd, type TestInfluxd } from '../support/influxd';
import { metricOf, spoolDrained } from '../support/ingest';
import { startMosquitto, type TestMosquitto } from '../support/mosquitto';
import { startPostgres, type TestPostgres } from '../support/postgres';
import { childEnv, clockAt, eventually, isAlive } from '../support/processes';
import { SEEDS } from '../support/seeds';

const ADMIN = { username: 'peakwatch-admin', password: 'admin-pw-7d21c0e94b-3a8f6e5d10' };
const SERVICE = { username: 'peakwatch-ingest', password: 'ingest-pw-5be0a39c72' };
/** Seconds a lease holds without renewal in this test (JOB_LEASE_SECONDS): a takeover within a few seconds. */
const LEASE_SECONDS = 5;
/**
 * How long after the replicas' start their KPI job runs: time to start them and publish the readings first, on a CI
 * machine busy with other specs too (a minute was not always enough with the whole suite running).
 */
const LEAD_MS = 90_000;
/** The KPI job's minutes (KPI_CRON): 2, 17, 32 and 47 past each hour. */
const KPI_MINUTES = [2, 17, 32, 47];

/**
 * The next time the KPI job fires after `afterMs`: the replicas' clocks are moved (libfaketime, the same offset for
 * all three) so that it comes a little after they are up, instead of up to 15 minutes later.
 */
function nextKpiRunMs(afterMs: number): number {
  const hour = Math.floor(afterMs / HOUR) * HOUR;
  for (let h = hour; ; h += HOUR)
    for (const minute of KPI_MINUTES) if (h + minute * 60_000 > afterMs) return h + minute * 60_000;
}

/**
 * City scale's promise on real parts (docs/deployment.md, "Replicas"): three replicas of `peakwatch start` on one
 * PostgreSQL, one mosquitto with the per-device ACLs of dynamic security, and one influxd. Devices publish through the
 * broker's shared subscription and every acknowledged reading is stored once; a KPI run is cut into shares of the
 * sites that the replicas lease; the replica holding a share is killed with SIGKILL in the middle of the run, and
 * another finishes it; every alert evaluation of a minute is done by one replica.
 */
describe('three replicas on one PostgreSQL, one mosquitto and one influxd', () => {
  let postgres: TestPostgres;
  let influxd: TestInfluxd;
  let influx: InfluxClient;
  let mosquitto: TestMosquitto;
  let store: StateStore;
  let dir: string;
  const replicas: { child: ChildProcess; port: number; dataDir: string }[] = [];
  let env: NodeJS.ProcessEnv;
  let published = 0;
  /** Readings each replica received from the broker's shared subscription. */
  const received: number[] = [];
  let stderr = '';

  beforeAll(async () => {
    buildDist();
    dir = await mkdtemp(join(tmpdir(), 'peakwatch-replicas-'));
    postgres = await startPostgres();
    const databaseUrl = await postgres.database();
    store = await StateStore.open({ kind: 'postgres', url: databaseUrl });
    influxd = await startInfluxd();
    influx = await influxd.client('replicas');
    const common = {
      SEEDS_DIR: join(ROOT, 'seeds'),
      DATABASE_URL: databaseUrl,
      MQTT_USERNAME: SERVICE.username,
      MQTT_PASSWORD: SERVICE.password,
      MQTT_DYNSEC_USERNAME: ADMIN.username,
      MQTT_DYNSEC_PASSWORD: ADMIN.password,
    };
    const dynsec = join(dir, 'dynamic-security.json');
    const init = spawnSync(process.execPath, [CLI, 'broker', 'dynsec-init', dynsec], {
      cwd: ROOT,
      encoding: 'utf8',
      env: childEnv({ ...common, DATA_DIR: dir, MQTT_URL: 'mqtt://127.0.0.1:1' }),
    });
    expect(init.stderr).toBe('');
    mosquitto = await startMosquitto({ dynsecFile: dynsec });

    // every device of the sample campus gets its secret, provisioned on the broker
    const registry = loadRegistry(join(SEEDS, 'sites'));
    const credentials = new CredentialsRepository(store, new MosquittoDynsec(mosquitto.url, ADMIN));
    const secrets: Record<string, string> = {};
    for (const { device, site } of registry.devices())
      secrets[device.id] = await credentials.issue(device.id, 'device', site.id);

    // the replicas' clock: the KPI job's next run comes LEAD_MS after they are started
    const startMs = Date.now();
    env = {
      ...common,
      INFLUX_URL: influxd.url,
      INFLUX_DATABASE: 'replicas',
      MQTT_URL: mosquitto.url,
      HTTP_HOST: '127.0.0.1',
      // info: the KPI run's step log
      LOG_LEVEL: 'info',
      JOB_LEASE_SECONDS: String(LEASE_SECONDS),
      ...clockAt(nextKpiRunMs(startMs + LEAD_MS) - LEAD_MS),
    };
    for (let i = 0; i < 3; i++) replicas.push(await startReplica(await mkdtemp(join(dir, `replica-${i}-`))));
    for (const r of replicas)
      if (!(await eventually(() => healthy(r.port), 60_000)))
        throw new Error(`a replica did not come up:\n${stderr.slice(-2000)}`);

    // the campus's last three hours, published through the broker as fast as it acknowledges; without the scenario's
    // faults (duplicates, malformed messages), so that every reading published is one to store
    const summary = await runScenario({
      scenario: { ...loadScenario(join(SEEDS, 'scenarios/haidian-campus.yaml')), faults: [] },
      seed: 21,
      // on the scenario's 5-minute steps
      fromMs: Math.floor((startMs - 3 * HOUR) / 300_000) * 300_000,
      toMs: Math.floor((startMs - 60_000) / 300_000) * 300_000,
      speed: Number.POSITIVE_INFINITY,
      brokerUrl: mosquitto.url,
      credentials: secrets,
      qos: 1,
      log: () => undefined,
    });
    published = summary.readings;
    for (const r of replicas) expect(await spoolDrained(r.port)).toBe(true);
    for (const r of replicas)
      received.push(await metricOf(r.port, 'peakwatch_ingest_readings_received_total'));
  });

  afterAll(async () => {
    for (const { child } of replicas) if (child.pid && isAlive(child.pid)) child.kill('SIGKILL');
    await store?.close();
    await mosquitto?.stop();
    await influxd?.stop();
    await postgres?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function startReplica(
    dataDir: string,
  ): Promise<{ child: ChildProcess; port: number; dataDir: string }> {
    const port = await freePort();
    const child = spawn(process.execPath, [CLI, 'start'], {
      cwd: ROOT,
      env: childEnv({ ...env, DATA_DIR: dataDir, HTTP_PORT: String(port) }),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    // kept for the failure message of a replica that does not come up; read so that the pipe never fills
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    return { child, port, dataDir };
  }

  async function healthy(port: number): Promise<boolean> {
    try {
      return (await fetch(`http://127.0.0.1:${port}/health`)).status === 200;
    } catch {
      return false;
    }
  }

  it('stores every reading the broker acknowledged once, whichever replica it reached', async () => {
    const [series] = await influx.query('SELECT * FROM telemetry');
    expect(published).toBeGreaterThan(500);
    expect(series?.rows).toHaveLength(published);
    // the broker shared the readings among the replicas: together all of them, each some
    expect(received.reduce((a, b) => a + b, 0)).toBe(published);
    expect(received.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
  });

  it('finishes a KPI run whose share holder was killed mid-run, each share done once, and writes its windows', async () => {
    // a share claimed and not yet done: its holder is stopped (SIGSTOP) and, if the share is still unfinished then
    // (a share of a few sites takes milliseconds), killed with SIGKILL in the middle of it; else it goes on (SIGCONT)
    let victim: { part: string; holder: string; slot: string } | undefined;
    const unfinished = (where: { part?: string; holder?: string; slot?: string } = {}) => {
      let query = store.db
        .selectFrom('job_lease')
        .select(['part', 'holder', 'slot'])
        .where('job', '=', 'kpi')
        .where('done_at', 'is', null);
      for (const [column, value] of Object.entries(where))
        query = query.where(column as 'part' | 'holder' | 'slot', '=', value);
      return query.execute();
    };
    await eventually(async () => {
      for (const held of await unfinished()) {
        const replica = replicas.find((r) => r.child.pid === Number(held.holder.split(':')[1]));
        if (!replica) continue;
        replica.child.kill('SIGSTOP');
        if ((await unfinished(held)).length === 1) {
          replica.child.kill('SIGKILL');
          victim = held;
          return true;
        }
        replica.child.kill('SIGCONT');
      }
      return false;
    }, 120_000);
    expect(victim).toBeDefined();

    // another replica takes the share over once its lease runs out, and the run ends with its roll-ups
    const finished = await eventually(async () => {
      const rows = await store.db
        .selectFrom('job_lease')
        .selectAll()
        .where('job', '=', 'kpi')
        .where('slot', '=', victim!.slot)
        .execute();
      return rows.some((r) => r.part === 'rest' && r.done_at !== null);
    }, 60_000);
    expect(finished).toBe(true);
    const rows = await store.db
      .selectFrom('job_lease')
      .selectAll()
      .where('job', '=', 'kpi')
      .where('slot', '=', victim!.slot)
      .orderBy('part')
      .execute();
    // eight shares of the campus's sites and the rest, each done, the killed one by another replica
    expect(rows.map((r) => r.part)).toEqual(expect.arrayContaining(['rest', 'sites-0', 'sites-1']));
    expect(rows.every((r) => r.done_at !== null)).toBe(true);
    // taken over (once, or again if a loaded machine kept the taker from renewing in time), done by another replica
    const takenOver = rows.find((r) => r.part === victim!.part)!;
    expect(takenOver.takeovers).toBeGreaterThanOrEqual(1);
    expect(takenOver.holder).not.toBe(victim!.holder);
    // more than one replica did shares of the run
    expect(new Set(rows.map((r) => r.holder)).size).toBeGreaterThanOrEqual(2);

    // every site has its quarter hours of the run, and the city its roll-up
    const registry = loadRegistry(join(SEEDS, 'sites'));
    const quarters = await influx.query(
      `SELECT value FROM kpi WHERE kpi = 'energy_kwh' AND period = '15m' AND scope = 'site' AND category = '' GROUP BY entity`,
    );
    expect(quarters.map((s) => s.tags['entity']).sort()).toEqual(registry.sites.map((s) => s.id).sort());
    // the city's quarter hours are the sums of its sites', combined from the sums each share left with its lease (the
    // run's step log says so), which are forgotten once the run is done
    expect(stderr).toContain('"areas of the shares"');
    expect(rows.every((r) => r.result === null)).toBe(true);
    const city = await influx.query(
      `SELECT value FROM kpi WHERE kpi = 'energy_kwh' AND period = '15m' AND scope = 'city' AND category = ''`,
    );
    expect(city[0]?.rows.length ?? 0).toBeGreaterThan(0);
    const siteSums = new Map<number, number>();
    for (const series of quarters)
      for (const row of series.rows)
        if (typeof row['value'] === 'number')
          siteSums.set(row['time'] as number, (siteSums.get(row['time'] as number) ?? 0) + row['value']);
    for (const row of city[0]!.rows) {
      expect(siteSums.has(row['time'] as number)).toBe(true);
      expect(row['value'] as number).toBeCloseTo(siteSums.get(row['time'] as number)!, 6);
    }
  }, 240_000); // its waits: a share caught within 120 s, its takeover and the run within 60 s more

  it('evaluates the alert rules once a minute, each minute by one replica', async () => {
    // the replicas evaluate every minute from their start: each minute is leased to one of them
    const done = () =>
      store.db
        .selectFrom('job_lease')
        .select(['slot', 'part', 'holder', 'done_at'])
        .where('job', '=', 'alerts')
        .where('done_at', 'is not', null)
        .execute();
    expect(await eventually(async () => (await done()).length > 0, 90_000)).toBe(true);
    const runs = await done();
    for (const run of runs) {
      expect(new Date(run.slot).getTime() % 60_000).toBe(0);
      expect(run.part).toBe('all');
      expect(replicas.map((r) => r.child.pid)).toContain(Number(run.holder.split(':')[1]));
    }
  });
});
