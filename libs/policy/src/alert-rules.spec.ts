import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPolicyData } from './policy-data';
import { DataFileError } from '@peakwatch/registry';
import { loadAlertRules, marginOf } from './alert-rules';

const SEEDS = join(__dirname, '../../../seeds');
const policy = loadPolicyData(SEEDS);

describe('alert rules (seeds/alert-rules)', () => {
  it('loads the sample rules with thresholds and sources from the policy data', () => {
    const rules = loadAlertRules(join(SEEDS, 'alert-rules'), policy);
    const rolling = rules.find((r) => r.id === 'dc-pue-rolling-existing')!;
    expect(rolling).toMatchObject({
      thresholdValue: 1.35,
      validFrom: '2026-01-01',
      for: 3_600_000,
      clearMargin: 0.02,
      audience: ['facility_manager', 'regulator'],
      tariffRates: { within: 0.2, beyond: 0.5 },
      policySource: { policyId: 'beijing-existing-dc-pue-2026', verified: false },
    });
    expect(rolling.policySource.document).toContain('北京市存量数据中心优化工作方案');
    expect(rules.find((r) => r.id === 'device-silent')!.policySource.document).toContain(
      'PeakWatch data quality',
    );
  });

  describe('refuses a broken rule file, naming the file, the rule and the field', () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'peakwatch-rules-'))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));
    const problems = (yaml: string): string[] => {
      writeFileSync(join(dir, 'r.yaml'), yaml);
      try {
        loadAlertRules(dir, policy);
      } catch (error) {
        if (error instanceof DataFileError) return error.problems.map((p) => `${p.path}: ${p.problem}`);
        throw error;
      }
      return [];
    };
    const rule = (overrides: string): string =>
      `rules:\n  - { id: r1, title: T, signal: { kpi: pue, period: 1d }, comparison: above, threshold: { value: 1.3 }, severity: warning, audience: [facility_manager], source: { document: D }${overrides} }\n`;

    it.each([
      [
        'an unknown KPI',
        rule('').replace('kpi: pue', 'kpi: puee'),
        'rules[0].signal.kpi: unknown KPI "puee"',
      ],
      [
        'an unknown policy value',
        rule('').replace('threshold: { value: 1.3 }', 'threshold: { policy: no-such-limit }'),
        'rules[0].threshold.policy: unknown policy value "no-such-limit"',
      ],
      ['a bad duration', rule(', for: soon'), 'rules[0].for: expected a duration such as 15m, 2h or 1d'],
      [
        'a literal threshold without a source',
        rule('').replace(', source: { document: D }', ''),
        'rules[0].source: a rule with a literal threshold names its source',
      ],
      ['an unknown field', rule(', colour: red'), 'rules[0]: Unrecognized key: "colour"'],
      [
        'an unknown tariff',
        rule(', tariffs: [beijing-dc-tariff-within-1x, nope]'),
        'rules[0].tariffs[1]: unknown policy value "nope"',
      ],
      [
        'a data-quality rule told to a regulator',
        rule(', dataQuality: true').replace('[facility_manager]', '[facility_manager, regulator]'),
        'rules[0].audience: a data-quality rule is told to facility managers only, never to a regulator',
      ],
    ])('%s', (_name, yaml, expected) => {
      expect(problems(yaml).join('\n')).toContain(expected);
    });

    it('a rule id used twice', () => {
      writeFileSync(join(dir, 'a.yaml'), rule(''));
      expect(problems(rule(''))).toEqual([
        expect.stringMatching(/^rules\[0\]\.id: rule id "r1" is also used in .*a\.yaml$/),
      ]);
    });
  });
});

describe('marginOf: how far past its threshold a value is', () => {
  it.each([
    // a limit above: PUE 1.365 against 1.3 is 5 % over; 1.2 is 7.7 % under
    ['above', 1.3, 1.365, 0.05],
    ['above', 1.3, 1.2, 1.2 / 1.3 - 1],
    // above zero: the value itself
    ['above', 0, 4.5, 4.5],
    // a floor: a renewable share 3 points behind its trajectory (share − target against 0)
    ['below', 0, -0.03, 0.03],
    ['below', 0.1, 0.12, -0.02],
  ] as const)('%s %d, value %d: %d', (comparison, thresholdValue, value, margin) => {
    expect(marginOf({ comparison, thresholdValue }, value)).toBeCloseTo(margin, 12);
  });

  it('has none without a value', () => {
    expect(marginOf({ comparison: 'above', thresholdValue: 1.3 }, null)).toBeNull();
  });
});
