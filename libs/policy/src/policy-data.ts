import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { DataFileError, displayPath, readYamlFile, type FileProblem } from '@peakwatch/registry';
import { Tariffs, tariffFileSchema, tariffsOf } from './tariffs';

/**
 * Thresholds and factors are data, never literals in code (seeds/README.md): each entry names its source document, clause,
 * year, the date it takes effect, and whether the value was checked in the original (`verified`).
 */
const common = {
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be lowercase letters, digits, - and _'),
  kind: z.string().min(1),
  unit: z.string().min(1),
  value: z.number(),
  year: z.number().int().min(2000).max(2100).optional(),
  validFrom: z.iso.date('must be a date YYYY-MM-DD'),
  source: z.string().trim().min(1, 'a source is required'),
  clause: z.string().optional(),
  url: z.url().optional(),
  verified: z.boolean(),
};

export const factorSchema = z
  .object({ ...common, region: z.string().min(1), method: z.string().optional() })
  .strict();
export const thresholdSchema = z
  .object({
    ...common,
    scope: z.enum(['site', 'district', 'city']),
    appliesTo: z.string().optional(),
    climateZone: z.string().optional(),
    buildingClass: z.string().optional(),
  })
  .strict();

export type Factor = z.infer<typeof factorSchema>;
export type Threshold = z.infer<typeof thresholdSchema>;

const factorFile = z.object({ factors: z.array(factorSchema).min(1) }).strict();
const thresholdFile = z.object({ thresholds: z.array(thresholdSchema).min(1) }).strict();

/** The policy thresholds (seeds/policy) and emission factors and coefficients (seeds/emission-factors). */
export class PolicyData {
  constructor(
    readonly factors: readonly Factor[],
    readonly thresholds: readonly Threshold[],
    /** Time-of-use divisions and tariffs (seeds/tariffs). */
    readonly tariffs: Tariffs = new Tariffs(),
  ) {}

  threshold(id: string): Threshold | undefined {
    return this.thresholds.find((t) => t.id === id);
  }

  factorById(id: string): Factor | undefined {
    return this.factors.find((f) => f.id === id);
  }

  /**
   * The factor of a kind and region for a year: the one of that year if published, else the latest earlier one
   * (factors are republished every year, usually late). With `asOf` (YYYY-MM-DD, the end of the period it is for),
   * only the factors published by then (`validFrom`) are candidates, so that a factor published later never changes
   * a past period: a period before the first publication of a kind takes its first one (if not for a later year).
   */
  factor({
    kind,
    region,
    year,
    method,
    asOf,
  }: {
    kind: string;
    region: string;
    year?: number;
    method?: string;
    asOf?: string;
  }): Factor | undefined {
    const all = this.factors.filter(
      (f) => f.kind === kind && f.region === region && (method === undefined || f.method === method),
    );
    const published = asOf === undefined ? all : all.filter((f) => f.validFrom <= asOf);
    const firstPublished = [...all].sort((a, b) => a.validFrom.localeCompare(b.validFrom)).slice(0, 1);
    const candidates = (published.length > 0 ? published : firstPublished).sort(
      (a, b) => (a.year ?? 0) - (b.year ?? 0),
    );
    if (year === undefined) return candidates.at(-1);
    return candidates.filter((f) => f.year === undefined || f.year <= year).at(-1);
  }
}

function loadFolder<T>(
  dir: string,
  schema: z.ZodType<T>,
  problems: FileProblem[],
  { optional = false } = {},
): { file: string; value: T }[] {
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort();
  } catch (error) {
    if (optional && (error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    problems.push({
      file: displayPath(dir),
      path: '',
      problem: `cannot be read (${(error as Error).message})`,
    });
    return [];
  }
  const values: { file: string; value: T }[] = [];
  for (const f of files) {
    const result = readYamlFile(join(dir, f), schema);
    if (result.ok) values.push({ file: displayPath(join(dir, f)), value: result.value });
    else problems.push(...result.problems);
  }
  return values;
}

/** The tariffs of every file of `dir` (none without the folder); problems go to `problems`. */
function tariffsIn(dir: string, problems: FileProblem[]): Tariffs {
  return tariffsOf(loadFolder(dir, tariffFileSchema, problems, { optional: true }), problems);
}

/** Loads and checks the tariff files of `dir` alone (the simulator's price-responsive sites); throws as loadPolicyData. */
export function loadTariffs(dir: string): Tariffs {
  const problems: FileProblem[] = [];
  const tariffs = tariffsIn(dir, problems);
  if (problems.length > 0) throw new DataFileError(problems);
  return tariffs;
}

/** Loads and checks every policy, factor and tariff file; throws {@link DataFileError} naming each file, path and problem. */
export function loadPolicyData(seedsDir: string): PolicyData {
  const problems: FileProblem[] = [];
  const factors = loadFolder(join(seedsDir, 'emission-factors'), factorFile, problems).flatMap(
    (f) => f.value.factors,
  );
  const thresholds = loadFolder(join(seedsDir, 'policy'), thresholdFile, problems).flatMap(
    (f) => f.value.thresholds,
  );
  // a deployment without time-of-use tariffs has no cost KPIs (every site says "no tariff declared")
  const tariffs = tariffsIn(join(seedsDir, 'tariffs'), problems);
  const seen = new Set<string>();
  for (const entry of [...factors, ...thresholds]) {
    if (seen.has(entry.id))
      problems.push({ file: displayPath(seedsDir), path: entry.id, problem: 'id used twice' });
    seen.add(entry.id);
  }
  if (problems.length > 0) throw new DataFileError(problems);
  return new PolicyData(factors, thresholds, tariffs);
}
