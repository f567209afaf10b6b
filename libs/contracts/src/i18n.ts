import i18next, { type TFunction } from 'i18next';
import { MESSAGES } from './messages';

/**
 * The languages of what a person reads (docs/glossary.md): Chinese first, English beside it. Texts are whole
 * sentences with named values (i18next interpolation), never fragments joined together.
 */
export const LANGUAGES = ['zh-CN', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];

/** A key that has no text in a language: an error, never the key shown to a person. */
export class MissingTranslationError extends Error {}

const instance = i18next.createInstance();
void instance.init({
  resources: Object.fromEntries(LANGUAGES.map((l) => [l, { translation: MESSAGES[l] }])),
  lng: 'zh-CN',
  fallbackLng: false,
  initAsync: false,
  // plain text (e-mail, logs), not HTML
  interpolation: { escapeValue: false },
  saveMissing: true,
  missingKeyHandler: (languages, _ns, key) => {
    throw new MissingTranslationError(`no ${languages.join(', ')} text for "${key}"`);
  },
});

/** The texts of a language: `t('alert.subject', { … })`. */
export function translator(language: Language): TFunction {
  return instance.getFixedT(language);
}

/**
 * An incident's title in `language` (docs/incidents.md): the outage of PeakWatch's component (`kind` platform,
 * `cause` broker, influxdb or ingest), or the segment, gateway or site named.
 */
export function incidentTitle(language: Language, kind: string, cause: string): string {
  return translator(language)(`incident.title.${kind === 'platform' ? cause : kind}`, { cause });
}
