import { MJ_PER_KWH } from '@peakwatch/domain';
import type { PolicyData } from '@peakwatch/policy';
import type { KpiFactors } from './site-kpis';

/**
 * The factors of the site KPIs for a year, from the policy data: the national average grid factor of that year (or
 * the latest before it; of those published by `asOf`, so that a later publication never changes a past period) for
 * location-based CO2, the natural-gas default, and the calorific coal equivalents
 * (0.1229 kgce/kWh; the generation method is a second call with `method: 'generation'`). Throws naming what is missing.
 */
export function kpiFactorsFor(
  policy: PolicyData,
  year: number,
  method: 'calorific' | 'generation' = 'calorific',
  /** The last day of the period the factors are for (YYYY-MM-DD): only factors published by then count. */
  asOf?: string,
): KpiFactors {
  const factor = (query: { kind: string; year?: number; method?: string }) =>
    policy.factor({ region: 'cn', ...query, ...(asOf ? { asOf } : {}) });
  const need = (what: string, value: number | undefined): number => {
    if (value === undefined) throw new Error(`seeds has no ${what} valid for ${year}`);
    return value;
  };
  return {
    gridKgCo2PerKwh: need(
      'electricity_grid factor for region cn',
      factor({ kind: 'electricity_grid', year })?.value,
    ),
    gasKgCo2PerM3: need('natural_gas factor', factor({ kind: 'natural_gas' })?.value),
    coal: {
      electricityKgcePerKwh: need(
        `${method} coal equivalent of electricity`,
        factor({ kind: 'coal_equivalent_electricity', method })?.value,
      ),
      gasKgcePerM3: need('coal equivalent of gas', factor({ kind: 'coal_equivalent_gas' })?.value),
      heatKgcePerKwh:
        need('coal equivalent of heat', factor({ kind: 'coal_equivalent_heat' })?.value) * MJ_PER_KWH, // kgce per MJ → per kWh
    },
    generationKgcePerKwh: need(
      'generation coal equivalent of electricity',
      factor({ kind: 'coal_equivalent_electricity', method: 'generation' })?.value,
    ),
    heatPumpMinSpf: need(
      `threshold ${HEAT_PUMP_MIN_SPF} (seeds/policy)`,
      policy.threshold(HEAT_PUMP_MIN_SPF)?.value,
    ),
    ...dcTrajectory(policy),
  };
}

/** The SPF a heat pump's season must exceed for its ambient heat to count (EU RED Annex VII). */
export const HEAT_PUMP_MIN_SPF = 'eu-red-heat-pump-min-spf';

/** Haidian's renewable step for new data centres (seeds/policy `haidian-new-dc-renewable-step`), when present. */
function dcTrajectory(policy: PolicyData): Pick<KpiFactors, 'dcRenewableTrajectory'> {
  const step = policy.threshold(DC_RENEWABLE_STEP);
  return step ? { dcRenewableTrajectory: { stepPerYear: step.value, appliesFrom: step.validFrom } } : {};
}

export const DC_RENEWABLE_STEP = 'haidian-new-dc-renewable-step';
