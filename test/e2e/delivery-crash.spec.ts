import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@peakwatch/process';
import { StateStore } from '@peakwatch/state';
import { loadConfig } from '@peakwatch/config';
import { CLI, ROOT, buildDist } from '../support/build';
import { startInfluxd, type TestInfluxd } from '../support/influxd';
import { testDatabaseUrl } from '../support/postgres';
import { childEnv, eventually, isAlive } from '../support/processes';

const ORG = 'hd-tech-campus';
const SECRET = 'test-delivery-secret-0123456789';

/**
 * The outbox's promise across a crash: at least once, with one delivery id per notification that receivers
 * deduplicate on (docs/contracts.md, "Delivery"). The receiver accepts the first POST of a report submission, and
 * before its answer reaches PeakWatch the process is killed with SIGKILL, so the delivery is never recorded; after a
 * restart the receiver gets the same `X-PeakWatch-Delivery` once more, and nothing else.
 */
describe('outbox delivery across a crash of the process', () => {
  let influxd: TestInfluxd;
  let dataDir: string;
  let server: Server;
  let child: ChildProcess | undefined;
  const got: { delivery: string; body: string }[] = [];
  let onFirst: (() => void) | undefined;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    buildDist();
    influxd = await startInfluxd();
    await influxd.client('delivery'); // the database, empty: the month's report states completeness 0
    dataDir = await mkdtemp(join(tmpdir(), 'peakwatch-delivery-'));
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        got.push({ delivery: String(req.headers['x-peakwatch-delivery']), body });
        // accepted: the receiver has it. The sender dies before it hears so.
        const hook = onFirst;
        onFirst = undefined;
        if (hook) return hook();
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"receipt":"R-1"}');
      });
    });
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    env = childEnv({
      INFLUX_URL: influxd.url,
      INFLUX_DATABASE: 'delivery',
      DATA_DIR: dataDir,
      SEEDS_DIR: join(ROOT, 'seeds'),
      HTTP_HOST: '127.0.0.1',
      MQTT_HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      REPORT_ENDPOINTS: `org:${ORG}=http://127.0.0.1:${port}/reports`,
      ALERT_WEBHOOK_SECRET: SECRET,
    });
    const databaseUrl = await testDatabaseUrl(); // the run's state store: SQLite in DATA_DIR, or PostgreSQL
    if (databaseUrl) env['DATABASE_URL'] = databaseUrl;
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    await influxd?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** The alerts app alone, as deployed: its outbox dispatcher delivers alerts and report submissions every second. */
  async function startAlertsApp(): Promise<ChildProcess> {
    const ports = { HTTP_PORT: String(await freePort()), MQTT_PORT: String(await freePort()) };
    return spawn(process.execPath, [join(ROOT, 'dist/apps/alerts/src/main.js')], {
      cwd: ROOT,
      env: { ...env, ...ports },
      stdio: 'ignore',
    });
  }

  it('delivers the notification whose delivery was never recorded again after a restart, with the same id, once', async () => {
    // the report of February 2026, filed and queued for submission by the command line
    const filed = spawnSync(process.execPath, [CLI, 'report', '--org', ORG, '--month', '2026-02'], {
      cwd: ROOT,
      encoding: 'utf8',
      env,
    });
    expect(filed.status).toBe(0);

    // the first POST is accepted by the receiver, and the sender is killed before the answer reaches it
    const killed = new Promise<void>((resolve) => {
      onFirst = () => {
        child!.kill('SIGKILL');
        resolve();
      };
    });
    child = await startAlertsApp();
    await killed;
    const pid = child.pid!;
    expect(await eventually(() => !isAlive(pid), 10_000)).toBe(true);
    expect(got).toHaveLength(1);

    // the outbox still holds it as undelivered: the crash came between the POST and the record
    const config = loadConfig(env);
    const pending = async (): Promise<{ delivery_id: string; delivered_at: string | null }[]> => {
      const store = await StateStore.open(config.stateStore);
      try {
        return await store.db.selectFrom('outbox').select(['delivery_id', 'delivered_at']).execute();
      } finally {
        await store.close();
      }
    };
    expect(await pending()).toEqual([{ delivery_id: got[0]!.delivery, delivered_at: null }]);

    // after a restart (once the killed process's 30 s claim on the row has lapsed): the same delivery again,
    // recorded as delivered, and nothing more
    child = await startAlertsApp();
    expect(await eventually(async () => (await pending())[0]?.delivered_at !== null, 90_000)).toBe(true);
    expect(got.map((g) => g.delivery)).toEqual([got[0]!.delivery, got[0]!.delivery]);
    expect(got[1]!.body).toBe(got[0]!.body);
    child.kill('SIGTERM');
  });
});
