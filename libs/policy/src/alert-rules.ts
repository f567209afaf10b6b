import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ID_CHARS, KPI_PERIODS, isValidId, type Language } from '@peakwatch/contracts';
import { KPI_AGGREGATION } from '@peakwatch/domain';
import type { PolicyData } from './policy-data';
import { DataFileError, SITE_TYPES, formatPath, readYamlFile, type FileProblem } from '@peakwatch/registry';

/** KPIs a rule may watch: those the analytics service writes. */
export const WATCHABLE_KPIS = [
  ...Object.keys(KPI_AGGREGATION),
  'energy_reduction',
  'energy_kgce_reduction',
  'co2_reduction',
  'quota_use',
];

const duration = z
  .string()
  .regex(/^\d+(m|h|d)$/, 'expected a duration such as 15m, 2h or 1d')
  .transform(
    (s) => Number(s.slice(0, -1)) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[s.at(-1) as 'm' | 'h' | 'd'],
  );

const signal = z.union([
  z
    .object({
      kpi: z.string(),
      period: z.enum(KPI_PERIODS),
      /** Year to date, projected to the year end (sums annualised; ratios as they stand). */
      forecast: z.boolean().optional(),
      /** Watch the difference to another KPI of the same window (e.g. a renewable share minus its target). */
      minus: z.string().optional(),
    })
    .strict(),
  z.object({ completeness: z.object({ kpi: z.string(), period: z.enum(KPI_PERIODS) }).strict() }).strict(),
  /** Minutes since the device's last reading (one instance per device). */
  z.object({ silence: z.literal(true) }).strict(),
]);

export const ruleSchema = z
  .object({
    id: z.string().refine(isValidId, `expected ${ID_CHARS}`),
    title: z.string().min(1),
    /** The title in Chinese (zh-CN), in the plans' own terms (docs/glossary.md); without it, `title` in both. */
    titleZh: z.string().min(1).optional(),
    signal,
    sites: z
      .object({
        type: z.enum(SITE_TYPES).optional(),
        commissionedFrom: z.iso.date().optional(),
        commissionedBefore: z.iso.date().optional(),
      })
      .strict()
      .default({}),
    comparison: z.enum(['above', 'below']),
    threshold: z.union([z.object({ policy: z.string() }).strict(), z.object({ value: z.number() }).strict()]),
    /** Hysteresis: a firing alert resolves only once the value is this far back on the good side. */
    clearMargin: z.number().nonnegative().default(0),
    for: duration.default(0),
    severity: z.enum(['info', 'warning', 'critical']),
    audience: z.array(z.enum(['facility_manager', 'regulator'])).min(1),
    /**
     * A data-quality rule (readings missing or wrong, not a site's performance): its alerts of one cause are grouped
     * into incidents, and never reach a regulator (docs/incidents.md).
     */
    dataQuality: z.boolean().default(false),
    /** The data-quality gate: below it, the regulator is not told; the facility manager gets a data-quality alert. */
    minCompleteness: z.number().min(0).max(1).default(0),
    /** Surcharge tariffs (policy ids, within and beyond 1× the limit) for the expected cost of a forecast breach. */
    tariffs: z.tuple([z.string(), z.string()]).optional(),
    /** Document and clause, when the threshold is not a policy value (which carries its own). */
    source: z
      .object({ document: z.string().min(1), clause: z.string().optional() })
      .strict()
      .optional(),
  })
  .strict();

export type AlertRuleSpec = z.infer<typeof ruleSchema>;

/** A rule with its threshold resolved from the policy data. */
export interface AlertRule extends AlertRuleSpec {
  /** Its title in each language a notification is written in. */
  titles: Record<Language, string>;
  thresholdValue: number;
  /** From when the threshold applies (YYYY-MM-DD). */
  validFrom?: string;
  policySource: { document: string; clause?: string; policyId?: string; verified?: boolean };
  tariffRates?: { within: number; beyond: number };
}

/**
 * Loads and checks every rule of `seeds/alert-rules/*.yaml`: the schema, unique ids, known KPIs, policy values that
 * exist. Every problem names the file, the rule (path) and the field; one error lists them all.
 */
export function loadAlertRules(dir: string, policy: PolicyData): AlertRule[] {
  const problems: FileProblem[] = [];
  const rules: AlertRule[] = [];
  let files: string[] = [];
  try {
    files = readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .sort();
  } catch (error) {
    throw new DataFileError([
      { file: dir, path: '', problem: `cannot be read (${(error as Error).message})` },
    ]);
  }
  const seen = new Map<string, string>();
  for (const name of files) {
    const file = join(dir, name);
    const read = readYamlFile(file, z.object({ rules: z.array(ruleSchema) }).strict());
    if (!read.ok) {
      problems.push(...read.problems);
      continue;
    }
    read.value.rules.forEach((spec, i) => {
      const at = (field: string): string =>
        formatPath([
          'rules',
          i,
          ...field
            .split('.')
            .filter(Boolean)
            .map((k) => (/^\d+$/.test(k) ? Number(k) : k)),
        ]);
      const problem = (field: string, text: string): void => {
        problems.push({ file, path: at(field), problem: text });
      };
      if (seen.has(spec.id)) problem('id', `rule id "${spec.id}" is also used in ${seen.get(spec.id)}`);
      seen.set(spec.id, file);
      const kpi =
        'kpi' in spec.signal
          ? spec.signal.kpi
          : 'completeness' in spec.signal
            ? spec.signal.completeness.kpi
            : undefined;
      const kpiField = 'kpi' in spec.signal ? 'signal.kpi' : 'signal.completeness.kpi';
      if (spec.dataQuality && spec.audience.includes('regulator'))
        problem('audience', 'a data-quality rule is told to facility managers only, never to a regulator');
      if (kpi !== undefined && !WATCHABLE_KPIS.includes(kpi))
        problem(kpiField, `unknown KPI "${kpi}"; known: ${WATCHABLE_KPIS.join(', ')}`);
      if (
        'kpi' in spec.signal &&
        spec.signal.minus !== undefined &&
        !WATCHABLE_KPIS.includes(spec.signal.minus)
      )
        problem('signal.minus', `unknown KPI "${spec.signal.minus}"; known: ${WATCHABLE_KPIS.join(', ')}`);
      let rule: Omit<AlertRule, 'titles'> | undefined;
      if ('policy' in spec.threshold) {
        const threshold = policy.threshold(spec.threshold.policy);
        if (!threshold)
          problem('threshold.policy', `unknown policy value "${spec.threshold.policy}" (seeds/policy)`);
        else
          rule = {
            ...spec,
            thresholdValue: threshold.value,
            validFrom: threshold.validFrom,
            policySource: {
              document: threshold.source,
              ...(threshold.clause ? { clause: threshold.clause } : {}),
              policyId: threshold.id,
              verified: threshold.verified,
            },
          };
      } else if (!spec.source) {
        problem('source', 'a rule with a literal threshold names its source (document and clause)');
      } else {
        rule = { ...spec, thresholdValue: spec.threshold.value, policySource: spec.source };
      }
      if (spec.tariffs) {
        const [within, beyond] = spec.tariffs.map((id) => policy.threshold(id));
        spec.tariffs.forEach((id, k) => {
          if (!policy.threshold(id)) problem(`tariffs.${k}`, `unknown policy value "${id}" (seeds/policy)`);
        });
        if (rule && within && beyond) rule.tariffRates = { within: within.value, beyond: beyond.value };
      }
      if (rule) rules.push({ ...rule, titles: { en: spec.title, 'zh-CN': spec.titleZh ?? spec.title } });
    });
  }
  if (problems.length > 0) throw new DataFileError(problems);
  return rules;
}

/** Whether a rule applies to a site: its type and commissioning date within the rule's `sites`. */
export function ruleApplies(
  rule: Pick<AlertRule, 'sites'>,
  site: { type: string; commissionedOn: string },
): boolean {
  const { type, commissionedFrom, commissionedBefore } = rule.sites;
  return (
    (!type || site.type === type) &&
    (!commissionedFrom || site.commissionedOn >= commissionedFrom) &&
    (!commissionedBefore || site.commissionedOn < commissionedBefore)
  );
}

/**
 * How far past its threshold a value is, as a fraction (positive: over it): value ÷ threshold − 1 above a non-zero
 * threshold (PUE 1.365 against 1.3: 0.05), value − threshold above zero, threshold − value below one (a share behind
 * its trajectory, in share points). None without a value. What a district's standing ranks its sites by
 * (docs/contracts.md, "District standing").
 */
export function marginOf(
  rule: Pick<AlertRule, 'comparison' | 'thresholdValue'>,
  value: number | null,
): number | null {
  if (value === null) return null;
  const t = rule.thresholdValue;
  if (rule.comparison === 'below') return t - value;
  return t === 0 ? value : value / t - 1;
}
