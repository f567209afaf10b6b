import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateStore } from '@peakwatch/state';
import { cliInProcess } from '../../../test/support/cli-in-process';
import { runCli } from './cli';

/** Runs the CLI in-process with a given environment; returns its exit code and what it wrote. */
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => cliInProcess(runCli, args, env);

describe('peakwatch command line', () => {
  it('prints help with exit code 0', async () => {
    const { code, stdout } = await cli(['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: peakwatch');
    expect(stdout).toMatch(/start\s+run every app in one process/);
    expect(stdout).toMatch(/demo\s+start a private influxd/);
  });

  it('has --help on each subcommand', async () => {
    const { code, stdout } = await cli(['demo', '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: peakwatch demo');
  });

  it.each([[['bogus']], [['start', '--bogus']], [[]]])('exits 2 on bad usage %j', async (args) => {
    const { code, stderr } = await cli(args);
    expect(code).toBe(2);
    expect(stderr).not.toBe('');
  });

  it('start exits 1 and lists every bad key when the environment is invalid', async () => {
    const { code, stderr } = await cli(['start'], { MQTT_PORT: '99999', LOG_LEVEL: 'chatty' });
    expect(code).toBe(1);
    expect(stderr).toContain('Invalid configuration (3 problems)');
    expect(stderr).toContain('MQTT_PORT="99999"');
    expect(stderr).toContain('INFLUX_URL is required');
    expect(stderr).toContain('LOG_LEVEL="chatty"');
  });

  it('demo refuses an InfluxDB that is not its own, with exit code 2', async () => {
    const { code, stderr } = await cli(['demo'], { INFLUX_URL: 'https://influx.example:8086' });
    expect(code).toBe(2);
    expect(stderr).toContain('demo runs its own influxd on loopback');
  });

  describe('sim', () => {
    it.each([
      [
        ['sim', '--scenario', 'seeds/scenarios/haidian-campus.yaml', '--qos', '3'],
        '--qos "3": expected 0, 1 or 2',
      ],
      [
        ['sim', '--scenario', 'seeds/scenarios/haidian-campus.yaml', '--speed', 'fast'],
        '--speed "fast": expected a number > 0 or "max"',
      ],
      [
        ['sim', '--scenario', 'seeds/scenarios/haidian-campus.yaml', '--from', 'yesterday'],
        '--from "yesterday": expected a date',
      ],
      // a time without its offset means a different instant on every machine: refused, as by the other commands
      [
        ['sim', '--scenario', 'seeds/scenarios/haidian-campus.yaml', '--from', '2025-01-03T10:00:00'],
        '--from "2025-01-03T10:00:00": expected a date (YYYY-MM-DD) or an RFC 3339 time with its offset',
      ],
      [
        ['sim', '--scenario', 'seeds/scenarios/haidian-campus.yaml', '--to', '2025-01-02'],
        '--to needs --from',
      ],
      [
        [
          'sim',
          '--scenario',
          'seeds/scenarios/haidian-campus.yaml',
          '--from',
          '2025-01-03',
          '--to',
          '2025-01-02',
        ],
        '--to 2025-01-02 is before --from 2025-01-03',
      ],
      [
        ['sim', '--scenario', 'seeds/scenarios/haidian-campus.yaml', '--seed', '1.5'],
        '--seed "1.5": expected an integer',
      ],
      [['sim', '--broker', 'not a url', '--scenario', 'x.yaml'], '--broker "not a url": expected a URL'],
      [['sim'], '--scenario <file> is required'],
      [['sim', '--devices', '10'], '--rate "": expected readings per second > 0'],
      [['sim', '--devices', '10', '--rate', '5', '--scenario', 'x.yaml'], 'exclude each other'],
    ])('exits 2 naming the flag: %j', async (args, message) => {
      const { code, stderr } = await cli(args);
      expect(code).toBe(2);
      expect(stderr).toContain(message);
    });

    it('exits 1 naming the file, path and problem of a broken scenario', async () => {
      const { code, stderr } = await cli(['sim', '--scenario', 'seeds/sites/hd-b1.yaml']);
      expect(code).toBe(1);
      expect(stderr).toContain('seeds/sites/hd-b1.yaml: name: Invalid string: must match pattern');
      expect(stderr).toMatch(/seeds\/sites\/hd-b1.yaml: Unrecognized keys: .*"district"/);
    });
  });

  describe('kpi', () => {
    const env = { INFLUX_URL: 'http://127.0.0.1:9', SEEDS_DIR: 'seeds' };
    it.each([
      [
        ['kpi', '--site', 'hd-b1', '--from', '2026-13-01', '--to', '2026-11-02'],
        '--from "2026-13-01": expected a date',
      ],
      [
        ['kpi', '--site', 'hd-b1', '--from', '2026-11-02', '--to', '2026-11-01'],
        '--to 2026-11-01 is not after --from 2026-11-02',
      ],
      [
        ['kpi', '--site', 'hd-b1', '--from', '2026-11-01', '--to', '2026-11-02', '--period', '1w'],
        '--period "1w": expected one of 15m, 1h, 1d',
      ],
      [['kpi', '--from', '2026-11-01', '--to', '2026-11-02'], "required option '--site <id>' not specified"],
    ])('exits 2 naming the flag: %j', async (args, message) => {
      const { code, stderr } = await cli(args, env);
      expect(code).toBe(2);
      expect(stderr).toContain(message);
    });

    it('exits 1 naming an unknown site and the known ones', async () => {
      const { code, stderr } = await cli(
        ['kpi', '--site', 'hd-b9', '--from', '2026-11-01', '--to', '2026-11-02'],
        env,
      );
      expect(code).toBe(1);
      expect(stderr).toContain('unknown site "hd-b9"');
      expect(stderr).toContain('hd-b1, hd-b2, hd-b3, hd-dc1');
    });
  });

  describe('apikey', () => {
    let dataDir: string;
    beforeEach(() => (dataDir = mkdtempSync(join(tmpdir(), 'peakwatch-apikey-'))));
    afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

    it.each([
      [
        ['apikey', 'create', '--role', 'root'],
        '--role "root": expected one of admin, facility_manager, emitter, regulator',
      ],
      [['apikey', 'create', '--role', 'regulator'], 'a regulator key needs --scope'],
      [['apikey', 'create', '--role', 'admin', '--scope', 'haidian'], 'an admin key has no --scope'],
      [['apikey', 'create', '--role', 'emitter', '--scope', 'a,b'], 'a emitter key has one --scope'],
      [['apikey', 'create', '--role', 'facility_manager', '--scope', 'Hd B1'], '--scope "Hd B1"'],
    ])('refuses %j with exit code 2', async (args, message) => {
      const { code, stderr } = await cli(args, { DATA_DIR: dataDir });
      expect(code).toBe(2);
      expect(stderr).toContain(message);
    });

    it('creates a key, printed once on the last line, that is stored hashed and can be revoked', async () => {
      const created = await cli(['apikey', 'create', '--role', 'regulator', '--scope', 'haidian'], {
        DATA_DIR: dataDir,
      });
      expect(created.code).toBeUndefined();
      const key = created.stdout.trimEnd().split('\n').at(-1)!;
      const [, id] = /^pwk_([0-9a-f]{16})\.[\w-]{43}$/.exec(key)!;
      const store = await StateStore.open({ kind: 'sqlite', file: join(dataDir, 'peakwatch.sqlite') });
      try {
        const row = await store.db
          .selectFrom('api_key')
          .selectAll()
          .where('id', '=', id!)
          .executeTakeFirstOrThrow();
        expect(row).toMatchObject({ role: 'regulator', scope: 'haidian', revoked_at: null });
        expect(row.secret_hash).not.toContain(key.split('.')[1]); // only a hash is kept
      } finally {
        await store.close();
      }
      expect((await cli(['apikey', 'revoke', id!], { DATA_DIR: dataDir })).stdout).toBe(
        `API key ${id} revoked\n`,
      );
      const again = await cli(['apikey', 'revoke', id!], { DATA_DIR: dataDir });
      expect(again.code).toBe(1);
      expect(again.stderr).toContain(`no active API key ${id}`);
    });
  });

  describe('report', () => {
    let dataDir: string;
    beforeEach(() => (dataDir = mkdtempSync(join(tmpdir(), 'peakwatch-report-'))));
    afterEach(() => rmSync(dataDir, { recursive: true, force: true }));
    const env = (): NodeJS.ProcessEnv => ({
      DATA_DIR: dataDir,
      INFLUX_URL: 'http://127.0.0.1:9',
      SEEDS_DIR: join(__dirname, '../../../seeds'),
    });

    it.each([
      [['report', '--org', 'hd-tech-campus', '--month', '2026-13'], '--month "2026-13": expected YYYY-MM'],
      [['report', '--org', 'hd-tech-campus', '--year', '26'], '--year "26": expected YYYY'],
      [['report', '--org', 'hd-tech-campus'], 'give one of --month YYYY-MM or --year YYYY'],
      [['report', '--month', '2026-10'], 'give --org <id>'],
      [['report', 'verify'], "missing required argument 'bundle'"],
      [
        ['report', 'verify', '/nonexistent/v1.evidence.zip'],
        '/nonexistent/v1.evidence.zip: cannot be read (ENOENT)',
      ],
    ])('refuses %j with exit code 2', async (args, message) => {
      const { code, stderr } = await cli(args, env());
      expect(code).toBe(2);
      expect(stderr).toContain(message);
    });

    it('exits 1 naming an unknown organisation and the known ones', async () => {
      const { code, stderr } = await cli(['report', '--org', 'nobody', '--month', '2026-10'], env());
      expect(code).toBe(1);
      expect(stderr).toContain('unknown organisation "nobody"; the registry has hd-tech-campus');
    });
  });
});
