import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, isAlive } from '../support/processes';

const ROOT = join(__dirname, '../..');
const JEST = join(ROOT, 'node_modules/jest/bin/jest.js');

describe('an interrupted test run', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'peakwatch-interrupt-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  // Two fixture files each start an influxd and a mosquitto; in band only the first ever runs.
  it.each([
    ['in band', ['--runInBand'], 2],
    ['in worker processes', ['--maxWorkers=2'], 4],
  ])('killed with SIGKILL (%s) leaves no influxd or mosquitto running', async (_mode, flags, servers) => {
    const pidFile = join(dir, `pids-${flags.join('')}`);
    const run = spawn(
      process.execPath,
      [JEST, '--config', 'test/fixtures/interrupted-run/jest.config.js', ...flags],
      {
        cwd: ROOT,
        env: { ...process.env, PEAKWATCH_PIDFILE: pidFile },
        stdio: 'ignore',
      },
    );
    const pids = (): number[] =>
      existsSync(pidFile) ? readFileSync(pidFile, 'utf8').split('\n').filter(Boolean).map(Number) : [];
    try {
      expect(await eventually(() => pids().length === servers, 60_000)).toBe(true);
      expect(pids().every(isAlive)).toBe(true);
    } finally {
      run.kill('SIGKILL');
    }
    // The kernel delivers the parent-death signal when the owner goes; allow the worker processes time to notice.
    expect(await eventually(() => !pids().some(isAlive), 30_000)).toBe(true);
  });
});
