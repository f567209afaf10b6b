import { LANGUAGES, MissingTranslationError, translator } from './i18n';
import { MESSAGES } from './messages';

/** Every `path → text` of a language's messages. */
function texts(tree: object, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(tree))
    if (typeof value === 'string') out.set(`${prefix}${key}`, value);
    else for (const [k, v] of texts(value as object, `${prefix}${key}.`)) out.set(k, v);
  return out;
}
const placeholders = (text: string): string[] => [...text.matchAll(/{{(\w+)}}/g)].map((m) => m[1]!).sort();

describe('i18n', () => {
  it('has every text in every language, with the same named values', () => {
    const [zh, en] = LANGUAGES.map((l) => texts(MESSAGES[l]));
    expect([...zh!.keys()].sort()).toEqual([...en!.keys()].sort());
    for (const [key, text] of en!) {
      expect({ key, values: placeholders(zh!.get(key)!) }).toEqual({ key, values: placeholders(text) });
      // a Chinese text is Chinese (its characters or its full-width punctuation), not an English one copied
      expect({
        key,
        chinese: /[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]/.test(zh!.get(key)!) || /^[a-z]+$/.test(text),
      }).toEqual({
        key,
        chinese: true,
      });
    }
  });

  it('fills a sentence with its values in each language', () => {
    const values = { state: 'x', title: 'y', entity: 'z' };
    expect(translator('en')('alert.subject', values)).toBe('[PeakWatch] x: y (z)');
    expect(translator('zh-CN')('alert.subject', values)).toBe('[PeakWatch] x：y（z）');
    expect(translator('zh-CN')('alert.state.firing')).toBe('告警');
    // plain text: nothing escaped as HTML
    expect(translator('en')('dr.reason', { reason: 'peak < 5 & "high"' })).toBe('Reason: peak < 5 & "high"');
  });

  it('refuses a key it has no text for, instead of showing the key', () => {
    expect(() => translator('zh-CN')('alert.nothing')).toThrow(MissingTranslationError);
    expect(() => translator('en')('alert.nothing')).toThrow('no en text for "alert.nothing"');
  });
});
