import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Spool } from '@peakwatch/ingest';
import { canConnect, freePort } from '@peakwatch/process';
import { ROOT, CLI, buildDist } from '../support/build';
import { connectClient } from '../support/mqtt';
import { testDatabaseUrl } from '../support/postgres';
import { childEnv, childrenNamed, eventually, isAlive } from '../support/processes';

/** The demo as a user runs it: the built `peakwatch demo`, in its own process group like a terminal job. */
describe('peakwatch demo', () => {
  let dataDir: string;
  let demo: ChildProcess | undefined;
  let ports: { mqtt: number; http: number; influx: number };
  let stdout: string;
  let stateEnv: NodeJS.ProcessEnv;

  beforeAll(() => {
    buildDist();
  });

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'peakwatch-demo-'));
    const databaseUrl = await testDatabaseUrl(); // the run's state store: SQLite in DATA_DIR, or PostgreSQL
    stateEnv = databaseUrl ? { DATABASE_URL: databaseUrl } : {};
    ports = { mqtt: await freePort(), http: await freePort(), influx: await freePort() };
    stdout = '';
    demo = spawn(process.execPath, [CLI, 'demo'], {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'ignore'],
      env: childEnv({
        DATA_DIR: dataDir,
        MQTT_PORT: String(ports.mqtt),
        MQTT_HOST: '127.0.0.1',
        HTTP_PORT: String(ports.http),
        HTTP_HOST: '127.0.0.1',
        INFLUX_URL: `http://127.0.0.1:${ports.influx}`,
        LOG_LEVEL: 'warn',
        SEEDS_DIR: join(ROOT, 'seeds'),
        ...stateEnv,
      }),
    });
    demo.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    expect(await eventually(() => stdout.includes('PeakWatch demo is running'), 60_000)).toBe(true);
  });

  afterEach(async () => {
    if (demo?.pid && isAlive(demo.pid)) process.kill(-demo.pid, 'SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  function exited(child: ChildProcess): Promise<number | null> {
    return new Promise((resolve) => {
      if (child.exitCode !== null) resolve(child.exitCode);
      else child.once('exit', (code) => resolve(code));
    });
  }

  it('prints its endpoints, answers on each, and stops everything on Ctrl-C with exit code 0', async () => {
    expect(stdout).toContain(`mqtt://127.0.0.1:${ports.mqtt}`);
    expect(stdout).toContain(`http://127.0.0.1:${ports.http}/health`);
    expect(stdout).toContain(`http://127.0.0.1:${ports.influx}`);
    expect(stdout).toContain(dataDir);
    // and how to see the dashboards against this demo's influxd (docker-compose.demo.yml)
    expect(stdout).toContain(
      `  Dashboards    DEMO_INFLUX_URL=http://127.0.0.1:${ports.influx} docker compose -f docker-compose.demo.yml up   then http://localhost:3001\n`,
    );

    const health = await fetch(`http://127.0.0.1:${ports.http}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({
      status: 'ok',
      checks: { state: 'up', influx: 'up', broker: 'up' },
    });
    // the simulator publishes the sample campus into the embedded broker; an observer needs a service secret,
    // issued by the CLI beside the running demo (printed alone on the last line)
    expect(await connectClient(`mqtt://127.0.0.1:${ports.mqtt}`).catch((e: Error) => e.message)).toMatch(
      /Not authorized/,
    );
    const issued = spawnSync(process.execPath, [CLI, 'service', 'secret', 'e2e-observer'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: childEnv({ DATA_DIR: dataDir, SEEDS_DIR: join(ROOT, 'seeds'), ...stateEnv }),
    });
    expect(issued.status).toBe(0);
    const secret = issued.stdout.trimEnd().split('\n').at(-1)!;
    expect(secret).toMatch(/^[\w-]{43}$/);
    const client = await connectClient(`mqtt://127.0.0.1:${ports.mqtt}`, {
      username: 'e2e-observer',
      password: secret,
    });
    const topics = new Set<string>();
    client.on('message', (topic) => topics.add(topic));
    // everything of the devices: the retained `online` status arrives at once, readings while the backfill runs
    await client.subscribeAsync('energy/v1/#', { qos: 1 });
    expect(
      await eventually(() => [...topics].some((t) => t.startsWith('energy/v1/hd-dc1/dc1-it/')), 30_000),
    ).toBe(true);
    await client.endAsync();
    // once the history is in, the demo computes the KPIs and prints yesterday's: a plausible PUE for the data centre
    // (the simulator's runs 1.28 in January to 1.49 in July) and the district's roll-up
    expect(await eventually(() => stdout.includes('(city)'), 90_000)).toBe(true);
    expect(stdout).toMatch(/^ {2}hd-dc1 .*PUE 1\.[2-5]\d.*; completeness \d+%$/m);
    expect(stdout).toMatch(/^ {2}haidian \(district\) .*energy \d+ kWh.*renewable \d+\.\d%/m);
    // and the sample emitter's report of the month before, as a PDF on disk
    expect(
      await eventually(() => /^Report of .* \(version 1, completeness [\d.]+%\):$/m.test(stdout), 60_000),
    ).toBe(true);
    // the month before is whole in the demo's history: a report with content, its headline figures printed
    expect(Number(/completeness ([\d.]+)%\):$/m.exec(stdout)![1])).toBeGreaterThanOrEqual(95);
    const grid =
      /^ {2}grid electricity (\d+) kWh, comprehensive energy [\d.]+ tce, CO2 [\d.]+ t \(location-based\)/m.exec(
        stdout,
      );
    // the campus buys over 20 MWh a day (the day's KPIs above): a month is well over 500 MWh
    expect(Number(grid?.[1])).toBeGreaterThan(500_000);
    const pdf = /^ {2}(\S+\.pdf) /m.exec(stdout)![1]!;
    expect(readFileSync(pdf).subarray(0, 5).toString()).toBe('%PDF-');
    // the commands it suggests work as printed beside it, with the user's environment (no INFLUX_URL)
    expect(
      await eventually(() => stdout.includes('Try, from this checkout while the demo runs:'), 30_000),
    ).toBe(true);
    // the block, to its blank line: comments naming each user, and the commands
    const block = stdout
      .split('Try, from this checkout while the demo runs:\n')[1]!
      .split('\n\n')[0]!
      .split('\n');
    expect(block.filter((l) => l.startsWith('  # ')).map((l) => l.split(' (')[0])).toEqual([
      '  # a facility manager',
      '  # the emitter',
      "  # the regulator of haidian: the district's alerts and its KPIs of yesterday",
    ]);
    const command = (start: string, includes = ''): string => {
      const found = block.filter((l) => l.startsWith(`  ${start}`) && l.includes(includes));
      expect({ start, found: found.length }).toEqual({ start, found: 1 });
      return found[0]!.trim();
    };
    const run = (line: string, seconds = 60) =>
      spawnSync('timeout', [String(seconds), 'bash', '-c', line], {
        cwd: ROOT,
        encoding: 'utf8',
        env: childEnv({ DATA_DIR: dataDir, SEEDS_DIR: join(ROOT, 'seeds'), ...stateEnv }),
      });
    // the facility manager: KPIs of yesterday, then the live stream (its `ready` at once; curl ended by the timeout,
    // as a user ends it with Ctrl-C)
    const kpi = command('npm run kpi');
    expect(kpi).toMatch(/^npm run kpi -- --site hd-b1 --from \d{4}-\d\d-\d\d --to \d{4}-\d\d-\d\d$/);
    const kpis = run(kpi);
    expect({ status: kpis.status, stderr: kpis.stderr }).toMatchObject({ status: 0 });
    expect(kpis.stderr).toContain(`using the running demo's, http://127.0.0.1:${ports.influx}`);
    expect(kpis.stdout).toMatch(/energy_kwh/);
    const stream = command('curl -N');
    expect(stream).toMatch(
      /^curl -N -H 'Authorization: Bearer pwk_\S+' http:\/\/127\.0\.0\.1:\d+\/api\/v1\/sites\/hd-b1\/stream$/,
    );
    const streamed = run(stream, 3);
    if (streamed.error) throw new Error(`curl is missing: apt-get install curl (${streamed.error.message})`);
    expect(streamed.stdout).toMatch(/^event: ready$/m);
    // the emitter: its report (filed already: unchanged), and the verifier's check of the evidence
    const filed = run(command('npm run report'));
    expect(filed.status).toBe(0);
    expect(filed.stdout).toMatch(/^monthly report of .* version 1 \(unchanged\)$/m);
    const verified = run(command('npm run peakwatch -- report verify'));
    expect({
      status: verified.status,
      stderr: verified.stderr.split('\n').filter((l) => l.startsWith('peakwatch:')),
    }).toEqual({ status: 0, stderr: [] });
    expect(verified.stdout).toMatch(/^match: /m);
    // the regulator: the district's alerts (a JSON list: the drifting plant is the facility manager's early warning
    // alone), and the district's energy of yesterday
    const alerts = run(command('curl -s', '/alerts'));
    expect(alerts.status).toBe(0);
    expect(Array.isArray(JSON.parse(alerts.stdout))).toBe(true);
    const district = run(command('curl -s', '/kpis?'));
    expect(district.status).toBe(0);
    const energy = (JSON.parse(district.stdout) as { kpi: string; value: number | null }[]).find(
      (k) => k.kpi === 'energy_kwh',
    );
    expect(energy?.value).toBeGreaterThan(10_000);
    // the data centre of the sample scenario drifts above its limit (1.3 for a data centre built since 2021)
    expect(stdout).toMatch(
      /^ALERT firing dc-pue-daily-new hd-dc1 \(warning, to the facility manager\): 1\.\d+ above 1\.3 /m,
    );
    // and no "too few readings" about a year or 12 months of which the demo has monitored two days
    expect(stdout).not.toMatch(/^ALERT firing (dc-pue-rolling|building-quota)\S*\.data-quality /m);
    expect((await fetch(`http://127.0.0.1:${ports.influx}/ping`)).status).toBe(204);
    expect(existsSync(join(dataDir, 'influxdb', 'meta'))).toBe(true);
    const [influxd] = childrenNamed(demo!.pid!, 'influxd');
    expect(influxd).toBeDefined();

    process.kill(-demo!.pid!, 'SIGINT'); // what Ctrl-C does: SIGINT to the whole foreground group
    expect(await exited(demo!)).toBe(0);
    expect(isAlive(influxd!)).toBe(false);
    // stopped in order: the simulator, the broker, the spool drained into influxd, then influxd (not by the Ctrl-C)
    const spool = await Spool.open({ dir: join(dataDir, 'spool'), maxBytes: 1024 ** 3 });
    const left = spool.depth;
    await spool.close();
    expect(left).toBe(0);
    // and it no longer says it runs: the commands beside it are back to their own configuration
    expect(existsSync(join(dataDir, 'demo.json'))).toBe(false);
    // the simulator's ground truth is written when it stops
    expect(existsSync(join(dataDir, 'sim', 'ground-truth.json'))).toBe(true);
    for (const port of Object.values(ports)) expect(await canConnect(port)).toBe(false);
    // what it wrote is its user's only: no file or directory under DATA_DIR open to the group or others
    const open: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if ((statSync(path).mode & 0o077) !== 0) open.push(path);
        if (entry.isDirectory()) walk(path);
      }
    };
    walk(dataDir);
    expect(open).toEqual([]);
  });

  it('takes its influxd with it when killed with SIGKILL', async () => {
    const [influxd] = childrenNamed(demo!.pid!, 'influxd');
    expect(influxd).toBeDefined();
    demo!.kill('SIGKILL'); // the demo process alone, not its group
    await exited(demo!);
    expect(await eventually(() => !isAlive(influxd!), 10_000)).toBe(true);
  });
});
