import { STATUS_CODES } from 'node:http';
import { HttpException, type HttpStatus } from '@nestjs/common';
import { translator, type ApiMessages, type Language } from '@peakwatch/contracts';

/**
 * An HTTP refusal whose body can be said in each language (docs/contracts.md, "Errors"). Its own response is the
 * English body; the API's exception filter answers with {@link bodyIn} the caller's language.
 */
export abstract class TranslatedHttpException extends HttpException {
  abstract bodyIn(language: Language): Record<string, unknown>;
}

/** A key of the API's texts (`api.http` in libs/contracts api-messages.ts), without its i18next context suffix. */
export type HttpTextKey =
  Exclude<keyof ApiMessages['http'], 'status'> extends infer K
    ? K extends `${infer Base}_${string}`
      ? Base
      : K
    : never;

/**
 * The named values of a text: a `context` picks its variant (i18next), `{ or: [...] }` is a list said as the language
 * says "a or b" (Intl.ListFormat), never joined by an English word.
 */
export type TextValues = Record<string, string | number | { or: readonly string[] }>;

/** The values with their lists said in `language`. */
export function valuesIn(values: TextValues, language: Language): Record<string, string | number> {
  return Object.fromEntries(
    Object.entries(values).map(([name, value]) => [
      name,
      typeof value === 'object'
        ? new Intl.ListFormat(language, { type: 'disjunction' }).format(value.or)
        : value,
    ]),
  );
}

/** The reason phrase of a status, as Nest puts it in `error` (RFC 9110 §15). */
export const reasonOf = (status: number): string => STATUS_CODES[status] ?? 'Error';

/**
 * `{ statusCode, error, message, ...extra }` with one of the API's texts as message: e.g.
 * `new ApiTextException(HttpStatus.NOT_FOUND, 'noSite', { site })`.
 */
export class ApiTextException extends TranslatedHttpException {
  constructor(
    status: HttpStatus,
    readonly text: HttpTextKey,
    readonly values: TextValues = {},
    readonly extra: Record<string, unknown> = {},
  ) {
    super(textBody(status, text, values, extra, 'en'), status);
  }

  bodyIn(language: Language): Record<string, unknown> {
    return textBody(this.getStatus(), this.text, this.values, this.extra, language);
  }
}

function textBody(
  status: number,
  text: HttpTextKey,
  values: TextValues,
  extra: Record<string, unknown>,
  language: Language,
): Record<string, unknown> {
  const message = translator(language)(`api.http.${text}`, valuesIn(values, language));
  return { statusCode: status, error: reasonOf(status), message, ...extra };
}
