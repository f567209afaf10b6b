import { MJ_PER_KWH, gasKgcePerM3, type CoalEquivalents } from '@peakwatch/domain';
import type { PolicyData, Tariffs } from '@peakwatch/policy';
import type { Site } from '@peakwatch/registry';

/** The CO2 factors of a year (seeds/emission-factors). */
export interface Co2Factors {
  gridKgCo2PerKwh: number;
  gasKgCo2PerM3: number;
  /** Purchased heat (tCO2/GJ). */
  heatTCo2PerGj: number;
}

/** Factors the KPIs need, chosen by the caller from the policy data (seeds/emission-factors) for the period. */
export interface KpiFactors extends Co2Factors {
  /** The heating value (kJ/m³) the gas CO2 factor is computed at, for a site declaring its supplier's own. */
  gasNcvKjPerM3: number;
  /** Calorific coal equivalents (当量值): comprehensive energy, and the calorific renewable share. */
  coal: CoalEquivalents;
  /**
   * Electricity's coal equivalent by the generation method (发电煤耗法, kgce/kWh), for `renewable_share_generation`:
   * the method of China's energy statistics and of the plans' renewable-share targets (docs/domain.md, "Renewable
   * share").
   */
  generationKgcePerKwh: number;
  /** The SPF a heat pump's season must exceed for its ambient heat to count as renewable (EU RED Annex VII). */
  heatPumpMinSpf: number;
  /**
   * The CO2 factors of a site's baseline year, so that the CO2 compared with the baseline uses one factor for both
   * years (docs/domain.md, "CO2"); without it, the period's own.
   */
  baselineCo2?: (year: number, asOf?: string) => Co2Factors;
  /** Renewable-share trajectory of data centres commissioned on or after `appliesFrom` (YYYY-MM-DD). */
  dcRenewableTrajectory?: { stepPerYear: number; appliesFrom: string };
  /** The time-of-use divisions and tariffs (seeds/tariffs); none: no site has a cost. */
  tariffs?: Tariffs;
}

/**
 * The factors of the site KPIs for a year, from the policy data: the national average grid factor of that year (or
 * the latest before it; of those published by `asOf`, so that a later publication never changes a past period) for
 * location-based CO2, the natural-gas and purchased-heat defaults, the calorific coal equivalents (0.1229 kgce/kWh)
 * and the generation method's coefficient of electricity, and, for the reductions against a baseline, the CO2
 * factors of any baseline year (docs/domain.md, "CO2"). Throws naming what is missing.
 */
export function kpiFactorsFor(
  policy: PolicyData,
  year: number,
  /** The last day of the period the factors are for (YYYY-MM-DD): only factors published by then count. */
  asOf?: string,
): KpiFactors {
  const { factor, need } = lookup(policy, year, asOf);
  return {
    ...co2FactorsOf(policy, year, asOf),
    gasNcvKjPerM3: need('natural_gas_ncv factor', factor({ kind: 'natural_gas_ncv' })),
    coal: {
      electricityKgcePerKwh: need(
        'calorific coal equivalent of electricity',
        factor({ kind: 'coal_equivalent_electricity', method: 'calorific' }),
      ),
      gasKgcePerM3: need('coal equivalent of gas', factor({ kind: 'coal_equivalent_gas' })),
      heatKgcePerKwh: need('coal equivalent of heat', factor({ kind: 'coal_equivalent_heat' })) * MJ_PER_KWH, // kgce per MJ → per kWh
    },
    generationKgcePerKwh: need(
      'generation coal equivalent of electricity',
      factor({ kind: 'coal_equivalent_electricity', method: 'generation' }),
    ),
    heatPumpMinSpf: need(
      `threshold ${HEAT_PUMP_MIN_SPF} (seeds/policy)`,
      policy.threshold(HEAT_PUMP_MIN_SPF),
    ),
    // a baseline year's factors as published by the period's end too: a later publication restates no past period
    // (or by `ownAsOf`: a baseline from data holds its year's factors as published by that year's end)
    baselineCo2: (baselineYear, ownAsOf) => co2FactorsOf(policy, baselineYear, ownAsOf ?? asOf, true),
    ...dcTrajectory(policy),
    tariffs: policy.tariffs,
  };
}

/**
 * Factor look-ups for a year (of those published by `asOf`), and `need`, which names what is missing. With
 * `earliestBefore`, a year before the first factor of a kind takes that first one (a baseline year older than the
 * seeds).
 */
function lookup(policy: PolicyData, year: number, asOf: string | undefined, earliestBefore = false) {
  const factor = (query: { kind: string; year?: number; method?: string }): { value: number } | undefined => {
    const found = policy.factor({ region: 'cn', ...query, ...(asOf ? { asOf } : {}) });
    if (found || !earliestBefore) return found;
    return policy.factors
      .filter((f) => f.kind === query.kind && f.region === 'cn' && (!asOf || f.validFrom <= asOf))
      .sort((a, b) => (a.year ?? 0) - (b.year ?? 0))[0];
  };
  const need = (what: string, found: { value: number } | undefined): number => {
    if (found === undefined) throw new Error(`seeds has no ${what} valid for ${year}`);
    return found.value;
  };
  return { factor, need };
}

/** The CO2 factors of a year: its grid factor (or the latest earlier one), natural gas and purchased heat. */
function co2FactorsOf(policy: PolicyData, year: number, asOf?: string, baseline = false): Co2Factors {
  const { factor, need } = lookup(policy, year, asOf, baseline);
  return {
    gridKgCo2PerKwh: need(
      'electricity_grid factor for region cn',
      factor({ kind: 'electricity_grid', year }),
    ),
    gasKgCo2PerM3: need('natural_gas factor', factor({ kind: 'natural_gas' })),
    heatTCo2PerGj: need('purchased_heat factor', factor({ kind: 'purchased_heat' })),
  };
}

/**
 * The factors of one site: where its supplier states the heating value of its gas (registry
 * `gasHeatingValueKjPerM3`), its coal equivalent is that value ÷ 29,307 kJ/kgce and its CO2 factors (the period's and
 * a baseline year's) scale by it over the default's heating value, carbon per unit of energy unchanged
 * (docs/domain.md, "Comprehensive energy").
 */
export function forSite(site: Pick<Site, 'gasHeatingValueKjPerM3'>, factors: KpiFactors): KpiFactors {
  const declared = site.gasHeatingValueKjPerM3;
  if (declared === undefined) return factors;
  const scale = declared / factors.gasNcvKjPerM3;
  const scaleGas = <F extends Co2Factors>(f: F): F => ({ ...f, gasKgCo2PerM3: f.gasKgCo2PerM3 * scale });
  const baselineCo2 = factors.baselineCo2;
  return {
    ...scaleGas(factors),
    coal: { ...factors.coal, gasKgcePerM3: gasKgcePerM3({ heatingValueKjPerM3: declared }) },
    ...(baselineCo2 ? { baselineCo2: (year: number) => scaleGas(baselineCo2(year)) } : {}),
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
