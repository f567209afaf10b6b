import { compare, evaluate, ruleApplies } from './evaluation';
import type { AlertRule } from '@peakwatch/policy';

/** A rolling-PUE rule as seeds/alert-rules has it: above 1.35, cleared at or below 1.33, 90 % of readings. */
const PUE: AlertRule = {
  id: 'dc-pue',
  title: 'PUE above the limit',
  titles: { en: 'PUE above the limit', 'zh-CN': '电能利用效率（PUE）超过限值' },
  signal: { kpi: 'pue', period: 'rolling_12mo' },
  sites: { type: 'data_centre', commissionedBefore: '2021-01-01' },
  comparison: 'above',
  threshold: { policy: 'beijing-existing-dc-pue-2026' },
  dataQuality: false,
  thresholdValue: 1.35,
  clearMargin: 0.02,
  for: 3_600_000,
  severity: 'critical',
  audience: ['facility_manager', 'regulator'],
  minCompleteness: 0.9,
  policySource: { document: 'test' },
};
const BELOW = { ...PUE, comparison: 'below' as const, thresholdValue: 0.1, clearMargin: 0.01 };

describe('the evaluation step of the alert rules', () => {
  it.each<[string, typeof PUE, number | null, boolean, boolean]>([
    // rule, value, breached, cleared: by hand from the threshold and the clear margin
    ['above the limit', PUE, 1.36, true, false],
    ['at the limit: not beyond it', PUE, 1.35, false, false],
    ['inside the margin: neither', PUE, 1.34, false, false],
    ['at the clear level', PUE, 1.33, false, true],
    ['no value: neither', PUE, null, false, false],
    ['below a share target', BELOW, 0.05, true, false],
    ['back above target + margin', BELOW, 0.11, false, true],
    ['inside the margin of a below rule', BELOW, 0.105, false, false],
  ])('%s', (_name, rule, value, breached, cleared) => {
    expect(compare(rule, value)).toEqual({ value, breached, cleared });
  });

  it.each<
    [string, number | undefined, { breached: boolean; cleared: boolean } | 'none', boolean | undefined]
  >([
    // completeness; the rule's own observation (none: held); the data-quality alert breached (undefined: none)
    [
      'a complete window is judged, and its data-quality alert clears',
      0.95,
      { breached: true, cleared: false },
      false,
    ],
    ['exactly the minimum passes the gate', 0.9, { breached: true, cleared: false }, false],
    ['too few readings: held, and the data-quality alert fires', 0.5, 'none', true],
    [
      'no completeness (device silence): judged, no data-quality alert',
      undefined,
      { breached: true, cleared: false },
      undefined,
    ],
  ])('%s', (_name, completeness, own, dataQualityBreached) => {
    const { observation, dataQuality } = evaluate(PUE, {
      value: 1.4,
      ...(completeness === undefined ? {} : { completeness }),
    });
    if (own === 'none') expect(observation).toEqual({ value: null, breached: false, cleared: false });
    else expect(observation).toEqual({ value: 1.4, ...own });
    expect(dataQuality?.observation.breached).toBe(dataQualityBreached);
    if (dataQuality) {
      expect(dataQuality.observation.value).toBe(completeness);
      // the facility manager's reminder, never the regulator's
      expect(dataQuality.rule).toMatchObject({
        id: 'dc-pue.data-quality',
        audience: ['facility_manager'],
        comparison: 'below',
        thresholdValue: 0.9,
        for: 0,
        // named in each language, as whole sentences
        title: 'Too few readings to judge: PUE above the limit',
        titles: {
          en: 'Too few readings to judge: PUE above the limit',
          'zh-CN': '读数不足，无法判断：电能利用效率（PUE）超过限值',
        },
      });
    }
  });

  it('has no data-quality alert for a rule without a minimum completeness', () => {
    expect(evaluate({ ...PUE, minCompleteness: 0 }, { value: 1.4, completeness: 0.1 })).toEqual({
      observation: { value: 1.4, breached: true, cleared: false },
    });
  });

  it.each<[string, { type: string; commissionedOn: string }, boolean]>([
    ['a data centre commissioned before 2021', { type: 'data_centre', commissionedOn: '2019-01-01' }, true],
    [
      'one commissioned on 1 January 2021: new, not existing',
      { type: 'data_centre', commissionedOn: '2021-01-01' },
      false,
    ],
    ['an office', { type: 'office', commissionedOn: '2019-01-01' }, false],
  ])('applies to %s: %s', (_name, site, applies) => {
    expect(ruleApplies(PUE, site as never)).toBe(applies);
  });
});
