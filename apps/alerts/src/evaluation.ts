import { LANGUAGES, translator } from '@peakwatch/contracts';
import type { AlertRule } from '@peakwatch/policy';
import type { Observation } from './state-machine';

/**
 * The pure evaluation step of the alert rules (docs/architecture.md): which sites a rule applies to, what a value
 * means against its threshold, and the data-quality gate. No I/O: the evaluator reads the values and persists and
 * notifies what this decides.
 */

/** Which sites a rule applies to (libs/policy: the API's district standing asks it too). */
export { ruleApplies } from '@peakwatch/policy';

/**
 * A value against the rule's threshold: breached beyond it; cleared only back past the clear margin (hysteresis);
 * neither in between, nor without a value.
 */
export function compare(
  rule: Pick<AlertRule, 'comparison' | 'thresholdValue' | 'clearMargin'>,
  value: number | null,
): Observation {
  if (value === null) return { value, breached: false, cleared: false };
  const t = rule.thresholdValue;
  return rule.comparison === 'above'
    ? { value, breached: value > t, cleared: value <= t - rule.clearMargin }
    : { value, breached: value < t, cleared: value >= t + rule.clearMargin };
}

/** What one evaluation of a rule decides for one entity. */
export interface Evaluation {
  /** The rule's own observation: none (neither breached nor cleared) while the data-quality gate holds it. */
  observation: Observation;
  /**
   * For a rule with a minimum completeness, over a window with a completeness: its data-quality alert
   * (`<rule>.data-quality`, the facility manager's) and what it observes, the completeness.
   */
  dataQuality?: { rule: AlertRule; observation: Observation };
}

/**
 * Evaluates a rule on an entity's value and the completeness of its window (docs/domain.md, "Completeness"): below
 * the rule's minimum completeness its own alert is held (its state kept) and the data-quality alert fires instead;
 * at or above it the value is judged and the data-quality alert clears.
 */
export function evaluate(
  rule: AlertRule,
  reading: { value: number | null; completeness?: number },
): Evaluation {
  const gateOk = rule.minCompleteness <= (reading.completeness ?? 1);
  const observation = gateOk
    ? compare(rule, reading.value)
    : { value: null, breached: false, cleared: false };
  if (rule.minCompleteness <= 0 || reading.completeness === undefined) return { observation };
  const titles = Object.fromEntries(
    LANGUAGES.map((l) => [l, translator(l)('alert.dataQualityTitle', { title: rule.titles[l] })]),
  ) as AlertRule['titles'];
  return {
    observation,
    dataQuality: {
      rule: {
        ...rule,
        id: `${rule.id}.data-quality`,
        // what it watches: the completeness of the rule's window
        signal:
          'kpi' in rule.signal
            ? { completeness: { kpi: rule.signal.kpi, period: rule.signal.period } }
            : rule.signal,
        title: titles.en,
        titles,
        comparison: 'below',
        thresholdValue: rule.minCompleteness,
        clearMargin: 0,
        for: 0,
        severity: 'warning',
        audience: ['facility_manager'],
        dataQuality: true,
      },
      observation: { value: reading.completeness, breached: !gateOk, cleared: gateOk },
    },
  };
}
