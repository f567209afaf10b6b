import { acceptedLanguage } from './language';

describe('acceptedLanguage: the language of an answer from Accept-Language (RFC 9110 §12.5.4)', () => {
  it.each<[string | undefined, 'zh-CN' | 'en']>([
    // none, or nothing PeakWatch writes: the default, Chinese
    [undefined, 'zh-CN'],
    ['', 'zh-CN'],
    ['fr-FR, de;q=0.8', 'zh-CN'],
    ['*', 'zh-CN'],
    // any Chinese is the Chinese PeakWatch writes (simplified)
    ['zh', 'zh-CN'],
    ['zh-CN', 'zh-CN'],
    ['zh-Hans-CN', 'zh-CN'],
    ['zh-TW', 'zh-CN'],
    ['ZH-cn', 'zh-CN'],
    // any English
    ['en', 'en'],
    ['en-US', 'en'],
    ['en-GB,en;q=0.9', 'en'],
    // the highest weight wins, equal weights in the order given, a language not written skipped
    ['zh-CN;q=0.5, en;q=0.8', 'en'],
    ['en;q=0.5, zh;q=0.5', 'en'],
    ['fr, en;q=0.9, zh;q=0.8', 'en'],
    ['en-US,en;q=0.9,zh-CN;q=0.8,zh;q=0.7', 'en'],
    ['zh-CN,zh;q=0.9,en-US;q=0.8,en;q=0.7', 'zh-CN'],
    // q=0 refuses: `*` is then the other language
    ['en;q=0, zh;q=0.1', 'zh-CN'],
    ['zh;q=0, *', 'en'],
    ['en;q=0', 'zh-CN'],
    // a weight that is no number from 0 to 1 makes its range unusable
    ['en;q=2, zh;q=0.1', 'zh-CN'],
    ['en;q=x', 'zh-CN'],
  ])('%p → %s', (header, language) => {
    expect(acceptedLanguage(header)).toBe(language);
  });

  it('gives the fallback it is told when nothing matches', () => {
    expect(acceptedLanguage('fr', 'en')).toBe('en');
    expect(acceptedLanguage(undefined, 'en')).toBe('en');
  });
});
