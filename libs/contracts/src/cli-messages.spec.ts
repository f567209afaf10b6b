import { LANGUAGES, MissingTranslationError, translator } from './i18n';
import { en } from './cli-messages';
import { MESSAGES } from './messages';

/** Every key of the command line's texts (`demo.running`, …), from the English ones. */
function keys(tree: object, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([key, value]) =>
    typeof value === 'string' ? [`${prefix}${key}`] : keys(value as object, `${prefix}${key}.`),
  );
}
const placeholders = (text: string): string[] => [...text.matchAll(/{{(\w+)}}/g)].map((m) => m[1]!);
const CJK = /[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]/;
/** The stored text of `key` (`demo.running`) in a language, before i18next fills it. */
const stored = (language: (typeof LANGUAGES)[number], key: string): string =>
  key
    .split('.')
    .reduce<unknown>((tree, k) => (tree as Record<string, unknown>)[k], MESSAGES[language].cli) as string;

describe("the command line's texts", () => {
  it.each(LANGUAGES)('renders every text in %s, each named value filled in', (language) => {
    const t = translator(language);
    for (const key of keys(en)) {
      // each named value as <name>, so that what is left of the braces shows
      const values = Object.fromEntries(
        placeholders(stored(language, key)).map((name) => [name, `<${name}>`]),
      );
      const rendered = t(`cli.${key}`, values);
      expect({ key, rendered }).toEqual({ key, rendered: expect.not.stringContaining('{{') as string });
      for (const name of Object.keys(values)) expect(rendered).toContain(`<${name}>`);
      // a Chinese text is Chinese (its characters or full-width punctuation), not the English one copied
      if (language === 'zh-CN') expect({ key, chinese: CJK.test(rendered) }).toEqual({ key, chinese: true });
    }
  });

  it('keeps the English lines that specs and scripts read, byte for byte', () => {
    const t = translator('en');
    expect(t('cli.demo.running')).toBe('PeakWatch demo is running. Press Ctrl-C to stop everything.');
    expect(t('cli.demo.tryThese')).toBe('Try, from this checkout while the demo runs:');
    expect(t('cli.plan.rows', { read: 3, accepted: 3, refused: 0, replaced: 0 })).toBe(
      '  rows: 3 read, 3 accepted, 0 refused; 0 stored readings would be replaced',
    );
    expect(t('cli.apikey.oneScope', { role: 'emitter' })).toBe(
      'a emitter key has one --scope (an organisation or a district)',
    );
  });

  it('fills a sentence in Chinese with its values', () => {
    expect(translator('zh-CN')('cli.retention.kept', { months: 23 })).toBe('保留：23 个表计月');
    expect(
      translator('zh-CN')('cli.report.unchanged', {
        kind: '月度',
        organisation: 'X',
        period: '2026-10',
        version: 2,
      }),
    ).toBe('X 2026-10 的月度报告：第 2 版（未变化）');
  });

  it('refuses a text missing in a language instead of showing its key', () => {
    jest.isolateModules(() => {
      // the messages with one Chinese text removed, as a translation forgotten would leave them
      jest.doMock('./cli-messages', () => {
        const actual = jest.requireActual<typeof import('./cli-messages')>('./cli-messages');
        const zhCN = structuredClone(actual.zhCN) as { demo: Partial<typeof actual.zhCN.demo> };
        delete zhCN.demo.running;
        return { ...actual, zhCN };
      });
      const isolated = jest.requireActual<typeof import('./i18n')>('./i18n');
      expect(() => isolated.translator('zh-CN')('cli.demo.running')).toThrow(
        isolated.MissingTranslationError,
      );
      expect(() => isolated.translator('zh-CN')('cli.demo.running')).toThrow(
        'no zh-CN text for "cli.demo.running"',
      );
      expect(isolated.translator('en')('cli.demo.running')).toBe(
        'PeakWatch demo is running. Press Ctrl-C to stop everything.',
      );
    });
    expect(() => translator('en')('cli.demo.nothing')).toThrow(MissingTranslationError);
  });
});
