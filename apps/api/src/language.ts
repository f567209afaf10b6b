import type { Request, Response } from 'express';
import { LANGUAGES, type Language } from '@peakwatch/contracts';

/** The language of an error body when the caller names none PeakWatch has: Chinese first (docs/glossary.md). */
export const DEFAULT_LANGUAGE: Language = 'zh-CN';

/**
 * The language to answer in, from an `Accept-Language` header (RFC 9110 §12.5.4: language ranges with weights `q`,
 * the highest first, equal weights in the order given; `q=0` refuses a language). A range is matched by its primary
 * subtag (RFC 4647 §3.3.1 basic filtering, from the range's side): any Chinese (`zh`, `zh-CN`, `zh-Hans-CN`, `zh-TW`)
 * gets zh-CN, the only Chinese PeakWatch writes; any English gets en. `*`, a header naming neither, or none gets
 * `fallback`.
 */
export function acceptedLanguage(
  header: string | undefined,
  fallback: Language = DEFAULT_LANGUAGE,
): Language {
  const ranges = (header ?? '')
    .split(',')
    .map((part, index) => {
      const [range = '', ...parameters] = part.split(';').map((p) => p.trim());
      const weight = parameters.find((p) => /^q\s*=/i.test(p));
      // a weight that is not a number from 0 to 1 makes the range unusable
      const q = weight === undefined ? 1 : Number(weight.replace(/^q\s*=\s*/i, '') || NaN);
      return { range: range.toLowerCase(), q: q >= 0 && q <= 1 ? q : 0, index };
    })
    .filter((r) => r.range !== '');
  const languageOf = (range: string): Language | undefined => {
    const primary = range.split('-')[0];
    return primary === 'zh' ? 'zh-CN' : primary === 'en' ? 'en' : undefined;
  };
  const refused = new Set(ranges.filter((r) => r.q === 0).map((r) => languageOf(r.range)));
  for (const { range } of ranges.filter((r) => r.q > 0).sort((a, b) => b.q - a.q || a.index - b.index)) {
    // `*`: any language not refused, the default first
    if (range === '*') return [fallback, ...LANGUAGES].find((l) => !refused.has(l)) ?? fallback;
    const language = languageOf(range);
    if (language) return language;
  }
  return fallback;
}

/**
 * The language of the answer to `request`: it is said in `Content-Language`, and `Vary: Accept-Language` tells caches
 * that another caller may get another.
 */
export function answerLanguage(
  request: Pick<Request, 'headers'>,
  response: Pick<Response, 'setHeader' | 'vary'>,
) {
  const language = acceptedLanguage(request.headers['accept-language']);
  response.setHeader('Content-Language', language);
  response.vary('Accept-Language');
  return language;
}
