import { HttpStatus } from '@nestjs/common';
import { ID_CHARS, translator, type ApiMessages, type Language } from '@peakwatch/contracts';
import { z } from 'zod';
import { TranslatedHttpException, reasonOf } from './translated.error';

/** A text of the API's request schemas (`api.problem` in libs/contracts api-messages.ts). */
export type ProblemKey = keyof ApiMessages['problem'];

const PROBLEM = 'api.problem.';
/**
 * A schema's own text for a problem, by its key: parseInput says it in the caller's language. Values a refinement
 * names come as its `params` (zod's custom issues); the constants below fill the rest.
 */
export const problem = (key: ProblemKey): string => `${PROBLEM}${key}`;
const CONSTANTS = { chars: ID_CHARS };

/** zod's own texts for its problems (a type, a length, an unknown key), in each language (zod v4 locales). */
const ZOD_TEXTS: Record<Language, z.core.$ZodErrorMap> = {
  'zh-CN': z.locales.zhCN().localeError,
  en: z.locales.en().localeError,
};

/** One problem of a refused request: the field at fault (as named in the request) and what is wrong, in a language. */
interface Problem {
  field: string;
  say(language: Language): string;
}

/** Parses a query or body with a schema; a 400 names the first field at fault (and lists every problem). */
export function parseInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  where: 'query' | 'body' = 'query',
): z.infer<S> {
  // with the input on each issue, zod can say in another language what it received
  const result = schema.safeParse(input ?? {}, { reportInput: true });
  if (result.success) return result.data;
  throw new InputRefusedException(
    result.error.issues.map((issue) => ({
      // an unknown parameter is named itself; other problems by their path
      field:
        issue.code === 'unrecognized_keys'
          ? [...issue.path, issue.keys[0]].join('.')
          : issue.path.join('.') || `(${where})`,
      say: (language) => issueText(issue, language),
    })),
  );
}

/**
 * What an issue says in `language`: a text of the API's schemas by its key; else zod's own text, where English keeps
 * the message the issue has (zod's, or a library schema's own English) and another language has zod's text of its kind.
 */
function issueText(issue: z.core.$ZodIssue, language: Language): string {
  if (issue.message.startsWith(PROBLEM))
    return translator(language)(issue.message, {
      ...CONSTANTS,
      ...(issue.code === 'custom' ? (issue.params as Record<string, unknown> | undefined) : {}),
    });
  if (language === 'en') return issue.message;
  const text = ZOD_TEXTS[language](issue as unknown as z.core.$ZodRawIssue);
  return (typeof text === 'string' ? text : text?.message) ?? issue.message;
}

/**
 * A 400 naming the field at fault, for what a schema cannot check (the registry, the clock): a text by its key, or a
 * library's English sentence with the text that says it in the other languages.
 */
export function badField(field: string, text: ProblemKey | { english: string; key: ProblemKey }): never {
  const key = typeof text === 'string' ? text : text.key;
  throw new InputRefusedException([
    {
      field,
      say: (language) =>
        typeof text !== 'string' && language === 'en'
          ? text.english
          : translator(language)(problem(key), CONSTANTS),
    },
  ]);
}

/**
 * `{ statusCode: 400, error, message, field, problems }`: every problem as `field: problem` in the caller's language
 * (api.validation), `field` and `problems[].field` as the request named them in every language.
 */
export class InputRefusedException extends TranslatedHttpException {
  constructor(private readonly problems: readonly Problem[]) {
    super(refusalBody(problems, 'en'), HttpStatus.BAD_REQUEST);
  }

  bodyIn(language: Language): Record<string, unknown> {
    return refusalBody(this.problems, language);
  }
}

function refusalBody(problems: readonly Problem[], language: Language): Record<string, unknown> {
  const t = translator(language);
  const said = problems.map((p) => ({ field: p.field, problem: p.say(language) }));
  return {
    statusCode: HttpStatus.BAD_REQUEST,
    error: reasonOf(HttpStatus.BAD_REQUEST),
    // each problem a whole sentence of the language, one after another as it separates them
    message: said.map((p) => t('api.validation.problem', p)).join(t('api.validation.separator')),
    field: said[0]!.field,
    problems: said,
  };
}
