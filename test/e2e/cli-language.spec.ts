import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, ROOT, buildDist } from '../support/build';
import { childEnv } from '../support/processes';

/**
 * The built `peakwatch` speaks the language of its locale (README, "Command line"): Chinese under LANG=zh_CN.UTF-8,
 * English under LANG=C, as tests and CI run it.
 */
describe('the command line in the language of its locale', () => {
  let dir: string;
  let bundle: string;
  beforeAll(() => {
    buildDist();
    dir = mkdtempSync(join(tmpdir(), 'peakwatch-cli-language-'));
    bundle = join(dir, 'v1.evidence.zip');
    writeFileSync(bundle, 'not a zip');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const verify = (env: NodeJS.ProcessEnv) =>
    spawnSync(process.execPath, [CLI, 'report', 'verify', bundle], {
      cwd: ROOT,
      encoding: 'utf8',
      env: childEnv({ DATA_DIR: dir, ...env }),
    });

  it('verifies a bundle in Chinese under a Chinese locale', () => {
    const run = verify({ LANG: 'zh_CN.UTF-8' });
    expect(run.status).toBe(1);
    expect(run.stdout.split('\n')).toEqual(
      expect.arrayContaining([`${bundle}：不是 PeakWatch 证据包`, '无法校验']),
    );
    expect(run.stderr).toBe('peakwatch: 此版本无法校验该证据包\n');
  });

  it('and in English under LANG=C', () => {
    const run = verify({ LANG: 'C' });
    expect(run.status).toBe(1);
    expect(run.stdout.split('\n')).toEqual(
      expect.arrayContaining([`${bundle}: not a PeakWatch evidence bundle`, 'CANNOT CHECK']),
    );
    expect(run.stderr).toBe('peakwatch: this version cannot check the bundle\n');
  });
});
