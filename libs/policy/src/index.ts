export {
  PolicyData,
  factorSchema,
  loadPolicyData,
  loadTariffs,
  thresholdSchema,
  type Factor,
  type Threshold,
} from './policy-data';
export {
  WATCHABLE_KPIS,
  loadAlertRules,
  marginOf,
  ruleApplies,
  ruleSchema,
  type AlertRule,
  type AlertRuleSpec,
} from './alert-rules';
export { Tariffs, checkSiteTariffs, tariffFileSchema, tariffsOf, type Tariff } from './tariffs';
