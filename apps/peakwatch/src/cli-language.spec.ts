import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliLanguage, displayWidth, localeLanguage, padColumns } from './cli-language';
import { cliInProcess } from '../../../test/support/cli-in-process';
import { runCli } from './cli';
import { renderRetention } from './commands/retention.command';

/** Runs the CLI in-process with a given environment; returns its exit code and what it wrote. */
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => cliInProcess(runCli, args, env);

describe("the command line's language", () => {
  it.each([
    // LC_ALL, then LC_MESSAGES, then LANG: the first set and not empty
    [{}, 'en'],
    [{ LANG: 'C' }, 'en'],
    [{ LANG: 'C.UTF-8' }, 'en'],
    [{ LANG: 'POSIX' }, 'en'],
    [{ LANG: 'en_US.UTF-8' }, 'en'],
    [{ LANG: 'zh_CN.UTF-8' }, 'zh-CN'],
    [{ LANG: 'zh_TW.Big5' }, 'zh-CN'],
    [{ LANG: 'zh' }, 'zh-CN'],
    [{ LANG: 'zh_CN@stroke' }, 'zh-CN'],
    [{ LANG: 'zu_ZA.UTF-8' }, 'en'],
    [{ LC_MESSAGES: 'zh_CN.UTF-8', LANG: 'en_US.UTF-8' }, 'zh-CN'],
    [{ LC_ALL: 'C', LC_MESSAGES: 'zh_CN.UTF-8', LANG: 'zh_CN.UTF-8' }, 'en'],
    [{ LC_ALL: 'zh_CN.UTF-8', LANG: 'C' }, 'zh-CN'],
    [{ LC_ALL: '', LANG: 'zh_CN.UTF-8' }, 'zh-CN'],
  ])('is %j → %s from the locale', (env, language) => {
    expect(localeLanguage(env)).toBe(language);
  });

  it('is --lang when given, whatever the locale', () => {
    expect(cliLanguage('en', { LANG: 'zh_CN.UTF-8' })).toBe('en');
    expect(cliLanguage('zh-CN', { LC_ALL: 'C' })).toBe('zh-CN');
    expect(cliLanguage(undefined, { LANG: 'zh_CN.UTF-8' })).toBe('zh-CN');
  });

  it('pads Chinese text by the columns a terminal gives it', () => {
    expect(displayWidth('hd-b1')).toBe(5);
    expect(displayWidth('海淀（辖区）')).toBe(12);
    expect(padColumns('数值', 6)).toBe('数值  ');
  });

  it('prints a retention plan in either language', () => {
    const plan = {
      atMs: Date.UTC(2026, 0, 1),
      due: [{ siteId: 'a', deviceId: 'm1', month: '2024-12', action: 'downsample' as const }],
      upcoming: [],
      kept: [
        { siteId: 'a', deviceId: 'm2', month: '2024-11', action: 'expire' as const, reasons: ['x', 'y'] },
      ],
    } as unknown as Parameters<typeof renderRetention>[0];
    expect(renderRetention(plan, false)).toEqual([
      'retention at 2026-01-01T00:00:00.000Z',
      'due: 1 meter months (--apply does them)',
      '  a/m1 2024-12: down-sampled',
      'within the warning: 0 meter months',
      'kept: 1 meter months',
      '  a/m2 2024-11: x; y',
    ]);
    expect(renderRetention(plan, true, 'zh-CN')).toEqual([
      '2026-01-01T00:00:00.000Z 的数据保留',
      '到期：1 个表计月（已执行）',
      '  a/m1 2024-12：已降采样',
      '预警期内：0 个表计月',
      '保留：1 个表计月',
      '  a/m2 2024-11：x；y',
    ]);
  });

  describe('of a command run', () => {
    let dir: string;
    let bundle: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'peakwatch-cli-language-'));
      bundle = join(dir, 'v1.evidence.zip');
      writeFileSync(bundle, 'not a zip');
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it.each([
      [[], { LANG: 'zh_CN.UTF-8' }, '不是 PeakWatch 证据包', '此版本无法校验该证据包'],
      [[], { LANG: 'C.UTF-8' }, 'not a PeakWatch evidence bundle', 'this version cannot check the bundle'],
      [['--lang', 'en'], { LANG: 'zh_CN.UTF-8' }, 'not a PeakWatch evidence bundle', 'cannot check'],
      [['--lang', 'zh-CN'], { LC_ALL: 'C' }, '不是 PeakWatch 证据包', '无法校验'],
    ])('report verify %j with %j', async (lang, env, line, error) => {
      // --lang before the command and after it
      for (const args of [
        [...lang, 'report', 'verify', bundle],
        ['report', 'verify', bundle, ...lang],
      ]) {
        const { code, stdout, stderr } = await cli(args, env);
        expect({ code, stdout, stderr }).toEqual({
          code: 1,
          stdout: expect.stringMatching(new RegExp(`^${bundle}[:：] ?${line}$`, 'm')) as string,
          stderr: expect.stringContaining(error) as string,
        });
      }
    });

    it('refuses a language it has no texts for, as bad usage', async () => {
      const { code, stderr } = await cli(['--lang', 'fr', 'report', 'verify', bundle]);
      expect(code).toBe(2);
      expect(stderr).toContain("option '--lang <language>' argument 'fr' is invalid");
    });

    it('says a usage error in the language', async () => {
      const { code, stderr } = await cli(['report', '--org', 'x'], { LANG: 'zh_CN.UTF-8' });
      expect({ code, stderr }).toEqual({
        code: 2,
        stderr: 'peakwatch: 请给出 --month YYYY-MM 或 --year YYYY 之一\n',
      });
    });
  });
});
