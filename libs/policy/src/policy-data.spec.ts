import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataFileError } from '@peakwatch/registry';
import { loadPolicyData } from './policy-data';

const SEEDS = join(__dirname, '../../../seeds');

describe('policy data', () => {
  const policy = loadPolicyData(SEEDS);

  it('loads the thresholds and factors of seeds/ with their sources', () => {
    expect(policy.threshold('beijing-renewable-share-2025')).toMatchObject({
      value: 0.144,
      clause: '§二',
      verified: true,
    });
    expect(policy.threshold('beijing-existing-dc-pue-2026')).toMatchObject({
      value: 1.35,
      validFrom: '2026-01-01',
      verified: false,
    });
    for (const entry of [...policy.factors, ...policy.thresholds])
      expect(entry.source.length).toBeGreaterThan(0);
  });

  it('picks the factor of the year, or the latest earlier one', () => {
    expect(policy.factor({ kind: 'electricity_grid', region: 'cn', year: 2023 })?.value).toBe(0.5306);
    expect(policy.factor({ kind: 'electricity_grid', region: 'cn', year: 2026 })?.value).toBe(0.5306);
    expect(
      policy.factor({ kind: 'coal_equivalent_electricity', region: 'cn', method: 'calorific' })?.value,
    ).toBe(0.1229);
    expect(policy.factor({ kind: 'electricity_grid', region: 'cn', year: 2019 })).toBeUndefined();
  });

  it('takes only the factors published by the end of the period, so that a later publication changes no past one', () => {
    // seeds: the 2021 grid factor 0.5568 published 2024-01-01, 2022's 0.5366 on 2024-12-01, 2023's 0.5306 on 2025-01-01
    const grid = (year: number, asOf: string) =>
      policy.factor({ kind: 'electricity_grid', region: 'cn', year, asOf })?.value;
    expect(grid(2024, '2024-11-30')).toBe(0.5568); // November 2024: only 2021's was out
    expect(grid(2024, '2024-12-31')).toBe(0.5366); // December 2024: 2022's
    expect(grid(2025, '2025-01-31')).toBe(0.5306); // January 2025: 2023's
    // before any was published, the first one published (not one published later still)
    expect(grid(2023, '2023-06-30')).toBe(0.5568);
    // without a date, the latest for the year, as before
    expect(policy.factor({ kind: 'electricity_grid', region: 'cn', year: 2024 })?.value).toBe(0.5306);
  });

  it('refuses a threshold without a source, naming the file and the path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'policy-'));
    try {
      cpSync(SEEDS, dir, { recursive: true });
      writeFileSync(
        join(dir, 'policy', 'broken.yaml'),
        "thresholds:\n  - { id: x-limit, kind: pue_max, scope: site, unit: ratio, value: 1.4, validFrom: '2026-01-01', source: ' ', verified: false }\n",
      );
      let problems: string[] = [];
      try {
        loadPolicyData(dir);
      } catch (error) {
        if (error instanceof DataFileError)
          problems = error.problems.map(
            (p) => `${p.file.split('/').slice(-2).join('/')}: ${p.path}: ${p.problem}`,
          );
      }
      expect(problems).toEqual(['policy/broken.yaml: thresholds[0].source: a source is required']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('seeds/policy', () => {
  const ROOT = join(SEEDS, '..');
  /** The code (not specs) that reads a threshold by its id, as a quoted string, and the alert rules' fields. */
  const files = (dir: string, ext: string): string[] =>
    readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith(ext) && !f.endsWith('.spec.ts'))
      .map((f) => readFileSync(join(ROOT, dir, f), 'utf8'));
  const code = [...files('apps', '.ts'), ...files('libs', '.ts')].join('\n');
  const rules = files('seeds/alert-rules', '.yaml').join('\n');

  it.each(loadPolicyData(SEEDS).thresholds.map((t) => t.id))(
    '%s is read by the KPI, rule or dashboard it exists for',
    (id) => {
      const quoted = new RegExp(`['"]${id}['"]`);
      const inRule = new RegExp(`(policy: ${id}\\b|tariffs: \\[[^\\]]*\\b${id}\\b)`);
      expect(quoted.test(code) || inRule.test(rules)).toBe(true);
    },
  );
});
