import { PeakWatchError } from '@peakwatch/contracts';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { parseDocument } from 'yaml';
import type { ZodType } from 'zod';

/** One problem in a data file: where (file and path inside it) and what. */
export interface FileProblem {
  file: string;
  /** Dotted path inside the document, e.g. `devices[2].role`; empty for the whole document. */
  path: string;
  problem: string;
}

/** A seeds file (registry, scenario, policy) is invalid; the message names every file, path and problem. */
export class DataFileError extends PeakWatchError {
  readonly code = 'invalid_data_file';
  constructor(readonly problems: readonly FileProblem[]) {
    super(problems.map((p) => `${p.file}${p.path ? `: ${p.path}` : ''}: ${p.problem}`).join('\n'));
  }
}

/** Formats a zod issue path as `devices[2].role`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`))
    .join('');
}

/** Path of a file for messages: relative to the working directory when inside it. */
export function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') ? file : rel;
}

/**
 * Reads a YAML file and validates it against a schema. Returns the value, or the problems (YAML syntax with line
 * and column, or every schema violation with its path).
 */
export function readYamlFile<T>(
  file: string,
  schema: ZodType<T>,
): { ok: true; value: T } | { ok: false; problems: FileProblem[] } {
  const shown = displayPath(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return {
      ok: false,
      problems: [{ file: shown, path: '', problem: `cannot be read (${(error as Error).message})` }],
    };
  }
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) {
    return {
      ok: false,
      problems: document.errors.map((e) => ({
        file: shown,
        path: '',
        problem: `invalid YAML at line ${e.linePos?.[0].line ?? '?'}, column ${e.linePos?.[0].col ?? '?'}: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
      })),
    };
  }
  const parsed = schema.safeParse(document.toJS());
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((issue) => ({
        file: shown,
        path: formatPath(issue.path),
        problem: issue.message,
      })),
    };
  }
  return { ok: true, value: parsed.data };
}
