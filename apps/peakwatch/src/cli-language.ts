import { LANGUAGES, translator, type Language } from '@peakwatch/contracts';

/**
 * The locale variables that choose the language of a command-line tool's messages, strongest first: the first one
 * set and not empty wins (POSIX.1-2017, Base Definitions §8.2, "Internationalization Variables").
 */
const LOCALE_VARIABLES = ['LC_ALL', 'LC_MESSAGES', 'LANG'] as const;

/**
 * The language of the command line's messages from the locale of `env` (README, "Command line"): a Chinese locale
 * (`zh_CN.UTF-8`, `zh_TW`, `zh`) gets zh-CN, the only Chinese PeakWatch writes; anything else (`en_US.UTF-8`, `C`,
 * `POSIX`, `C.UTF-8`) or none gets en, as a tool without a translation for the locale prints its own texts.
 */
export function localeLanguage(env: NodeJS.ProcessEnv): Language {
  const locale = LOCALE_VARIABLES.map((name) => env[name]).find(
    (value) => value !== undefined && value !== '',
  );
  // language[_territory][.codeset][@modifier]
  return /^zh(?:[_.@-]|$)/i.test(locale ?? '') ? 'zh-CN' : 'en';
}

/** The language a `--lang` option names (one of LANGUAGES, checked by commander), or else the locale's. */
export function cliLanguage(option: string | undefined, env: NodeJS.ProcessEnv): Language {
  return LANGUAGES.find((language) => language === option) ?? localeLanguage(env);
}

/** The command line's texts in `language` (libs/contracts cli-messages.ts): `cliText('en')('demo.running')`. */
export function cliText(language: Language): (key: string, values?: Record<string, unknown>) => string {
  const t = translator(language);
  return (key, values) => t(`cli.${key}`, values ?? {});
}

/** Columns a text takes on a terminal: CJK and full-width characters two, others one (UAX #11 wide and full-width). */
export function displayWidth(text: string): number {
  let width = 0;
  for (const c of text)
    width +=
      /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/.test(c)
        ? 2
        : 1;
  return width;
}

/** `text` padded with spaces to `width` terminal columns (String.padEnd counts characters, not columns). */
export const padColumns = (text: string, width: number): string =>
  text + ' '.repeat(Math.max(0, width - displayWidth(text)));
