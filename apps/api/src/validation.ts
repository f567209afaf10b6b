import { BadRequestException } from '@nestjs/common';
import type { z } from 'zod';

/** Parses a query or body with a schema; a 400 names the first field at fault (and lists every problem). */
export function parseInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  where: 'query' | 'body' = 'query',
): z.infer<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => ({
    // an unknown parameter is named itself; other problems by their path
    field:
      issue.code === 'unrecognized_keys'
        ? [...issue.path, issue.keys[0]].join('.')
        : issue.path.join('.') || `(${where})`,
    problem: issue.message,
  }));
  throw badRequest(problems);
}

/** A 400 naming the field at fault, for what a schema cannot check (the registry, the clock). */
export function badField(field: string, problem: string): never {
  throw badRequest([{ field, problem }]);
}

function badRequest(problems: { field: string; problem: string }[]): BadRequestException {
  return new BadRequestException({
    statusCode: 400,
    error: 'Bad Request',
    message: problems.map((p) => `${p.field}: ${p.problem}`).join('; '),
    field: problems[0]!.field,
    problems,
  });
}
