/**
 * KPI formulas (docs/domain.md, with the standard or clause of each in its comment). Each takes plain quantities with units in their names and returns the value, or null
 * where the standard leaves it undefined (a zero denominator): a window without data has no KPI, never a zero one.
 * Coefficients and factors are parameters: their values are data in seeds/, with source and validity.
 */

const ratio = (numerator: number, denominator: number): number | null =>
  denominator > 0 ? numerator / denominator : null;

/** PUE = E_DC / E_IT over the same period (ISO/IEC 30134-2 §6; EN 50600-4-2). Null when E_IT is zero. */
export function pue({ facilityKwh, itKwh }: { facilityKwh: number; itKwh: number }): number | null {
  return ratio(facilityKwh, itKwh);
}

/**
 * PUE over several windows (rolling 12 months for compliance): Σ E_DC / Σ E_IT, never the mean of the windows'
 * ratios (ISO/IEC 30134-2 defines PUE on annual energy).
 */
export function pueOfWindows(windows: readonly { facilityKwh: number; itKwh: number }[]): number | null {
  return pue({
    facilityKwh: windows.reduce((s, w) => s + w.facilityKwh, 0),
    itKwh: windows.reduce((s, w) => s + w.itKwh, 0),
  });
}

/** COP (an interval) or SPF (a season or year) = Q / W: heat delivered over electricity used (SEPEMO; EN 14825). */
export function performanceFactor({
  heatKwh,
  electricKwh,
}: {
  heatKwh: number;
  electricKwh: number;
}): number | null {
  return ratio(heatKwh, electricKwh);
}

/**
 * Renewable (ambient) heat of a heat pump, EU RED 2009/28/EC Annex VII: E_RES = Q_usable × (1 − 1/SPF), counted only
 * for a heat pump whose seasonal performance factor exceeds 1.15/η; with η = 45.5 % (Decision 2013/114/EU) that
 * minimum is 2.5 for electrically driven heat pumps (seeds/policy). A season (the calendar year) is credited with its
 * own heat and SPF; a shorter window, whose season is not over, with its own as an indicative figure (docs/domain.md,
 * "Heat pumps").
 */
export function heatPumpRenewableKwh({
  heatKwh,
  spf,
  minSpf,
}: {
  heatKwh: number;
  spf: number | null;
  minSpf: number;
}): number {
  return spf !== null && spf > minSpf ? heatKwh * (1 - 1 / spf) : 0;
}

/** Energy use intensity (kWh/m²) over the window the energy covers (GB/T 51161-2016 uses a calendar year). */
export function energyIntensity({
  energyKwh,
  floorAreaM2,
}: {
  energyKwh: number;
  floorAreaM2: number;
}): number | null {
  return ratio(energyKwh, floorAreaM2);
}

/** Year-to-date intensity annualised: EUI_YTD × days in the year ÷ days elapsed. */
export function annualisedIntensity({
  energyKwh,
  floorAreaM2,
  daysElapsed,
  daysInYear,
}: {
  energyKwh: number;
  floorAreaM2: number;
  daysElapsed: number;
  daysInYear: number;
}): number | null {
  const eui = energyIntensity({ energyKwh, floorAreaM2 });
  return eui === null || daysElapsed <= 0 ? null : (eui * daysInYear) / daysElapsed;
}

/** PV final yield Y_f = E_out / P0 (kWh/kWp), IEC 61724-1; over a year, the specific yield. */
export function pvSpecificYield({
  energyKwh,
  peakPowerKwp,
}: {
  energyKwh: number;
  peakPowerKwp: number;
}): number | null {
  return ratio(energyKwh, peakPowerKwp);
}

/** Performance ratio PR = Y_f / Y_r with Y_r = H_i / G_ref, G_ref = 1 kW/m² (IEC 61724-1). */
export function performanceRatio({
  energyKwh,
  peakPowerKwp,
  irradiationKwhM2,
}: {
  energyKwh: number;
  peakPowerKwp: number;
  irradiationKwhM2: number;
}): number | null {
  const yf = pvSpecificYield({ energyKwh, peakPowerKwp });
  return yf === null ? null : ratio(yf, irradiationKwhM2 / 1);
}

/** Self-consumption = (generation − export) / generation. */
export function selfConsumption({
  generationKwh,
  exportKwh,
}: {
  generationKwh: number;
  exportKwh: number;
}): number | null {
  return ratio(generationKwh - exportKwh, generationKwh);
}

/** Self-sufficiency = PV consumed on site / total consumption. */
export function selfSufficiency({
  generationKwh,
  exportKwh,
  consumptionKwh,
}: {
  generationKwh: number;
  exportKwh: number;
  consumptionKwh: number;
}): number | null {
  return ratio(generationKwh - exportKwh, consumptionKwh);
}

/**
 * Peak demand (最大需量): the largest 15-minute average power, kW = kWh of the quarter × 4, and the start of its
 * (first) quarter. Null without data.
 */
export function peakDemand(
  quarters: readonly { startMs: number; energy: number | null }[],
): { kw: number; atMs: number } | null {
  let peak: { kw: number; atMs: number } | null = null;
  for (const q of quarters)
    if (q.energy !== null && (peak === null || q.energy * 4 > peak.kw))
      peak = { kw: q.energy * 4, atMs: q.startMs };
  return peak;
}

/** Completeness = received ÷ expected intervals, 0..1 (发改环资〔2017〕1711号 asks ≥ 90%). */
export function completeness({ received, expected }: { received: number; expected: number }): number {
  return expected > 0 ? Math.min(1, Math.max(0, received / expected)) : 0;
}

/** Reduction against a baseline intensity: 1 − current / baseline (Haidian: −8% energy, −9% carbon per m² by 2025). */
export function reduction({ current, baseline }: { current: number; baseline: number }): number | null {
  return baseline > 0 ? 1 - current / baseline : null;
}

/** kg → t. */
const tonnes = (kg: number): number => kg / 1000;

/**
 * Location-based CO2 of grid electricity (t): the net purchase (imported − exported kWh) × the grid factor
 * (kgCO2/kWh) of the year and region. GB/T 32150-2015 counts the emissions of electricity a unit exports (输出的电力产生的
 * 排放) and deducts them from its total at the grid factor (E = … + E_购入电 − E_输出电; the deduction read from
 * secondary sources, docs/domain.md "CO2"), so a window in which a site exported more than it bought is negative.
 */
export function electricityCo2LocationT({
  importKwh,
  exportKwh = 0,
  factorKgPerKwh,
}: {
  importKwh: number;
  exportKwh?: number;
  factorKgPerKwh: number;
}): number {
  return tonnes((importKwh - exportKwh) * factorKgPerKwh);
}

/**
 * Market-based CO2 of grid electricity (t): of the net purchase `gridKwh` (imports − exports), green power bought
 * (certificates, 绿证, 1 certificate = 1,000 kWh; green-power contracts, 绿电交易) counts at zero, the rest at the
 * residual factor (e.g. "excluding market non-fossil"); never below zero.
 */
export function electricityCo2MarketT({
  gridKwh,
  greenPowerKwh,
  residualFactorKgPerKwh,
}: {
  gridKwh: number;
  /** Certificate- or contract-backed green power (kWh). */
  greenPowerKwh: number;
  residualFactorKgPerKwh: number;
}): number {
  return tonnes(Math.max(0, gridKwh - greenPowerKwh) * residualFactorKgPerKwh);
}

/** One green electricity certificate (绿证) stands for 1,000 kWh (发改能源〔2023〕1044号). */
export const KWH_PER_CERTIFICATE = 1000;

/** CO2 of natural gas (t): m³ × factor (kgCO2/m³; 2.162 from GB/T 32150 defaults). */
export function gasCo2T({ gasM3, factorKgPerM3 }: { gasM3: number; factorKgPerM3: number }): number {
  return tonnes(gasM3 * factorKgPerM3);
}

/** CO2 of purchased heat (t): GJ × factor (tCO2/GJ; default 0.11 per GB/T 32150). */
export function heatCo2T({ heatGj, factorTPerGj }: { heatGj: number; factorTPerGj: number }): number {
  return heatGj * factorTPerGj;
}

/** GJ in a MJ. */
export const GJ_PER_MJ = 0.001;

/** The heating value of one kilogram of standard coal equivalent: 29,307 kJ (7,000 kcal; GB/T 2589-2020 §3.5). */
export const KJ_PER_KGCE = 29_307;

/**
 * Coal equivalent of a gas by its lower heating value (kJ/m³ → kgce/m³, GB/T 2589: heating value ÷ 29,307 kJ/kgce),
 * for a site whose supplier states the heating value of the gas delivered.
 */
export function gasKgcePerM3({ heatingValueKjPerM3 }: { heatingValueKjPerM3: number }): number {
  return heatingValueKjPerM3 / KJ_PER_KGCE;
}

/**
 * Comprehensive energy consumption (综合能耗, GB/T 2589-2020), kgce: every carrier used, converted by its coal
 * equivalent (electricity at the calorific 0.1229 kgce/kWh for the comprehensive figure; docs/domain.md,
 * "Comprehensive energy").
 */
export function comprehensiveEnergyKgce({
  electricityKwh,
  gasM3,
  heatKwh,
  coefficients: c,
}: {
  electricityKwh: number;
  gasM3: number;
  heatKwh: number;
  coefficients: CoalEquivalents;
}): number {
  return electricityKwh * c.electricityKgcePerKwh + gasM3 * c.gasKgcePerM3 + heatKwh * c.heatKgcePerKwh;
}

/** Coefficients to tonnes of coal equivalent (kgce per unit), data from seeds/ (GB/T 2589-2020 and NBS method). */
export interface CoalEquivalents {
  electricityKgcePerKwh: number;
  gasKgcePerM3: number;
  heatKgcePerKwh: number;
}

/**
 * Renewable share of energy consumption in tce. Renewable: PV consumed on site, green power bought (certificates,
 * contracts; at most the electricity used) and
 * heat-pump renewable heat; total: all electricity, gas and purchased heat consumed plus that renewable heat.
 * The electricity coefficient decides the method: 0.1229 kgce/kWh (calorific) or the year's coal rate of thermal
 * generation (发电煤耗法, what the 14.4% / 25% targets use); compute both by calling twice.
 */
export function renewableShare({
  electricityKwh,
  pvConsumedKwh,
  greenPowerKwh,
  renewableHeatKwh,
  gasM3,
  purchasedHeatKwh,
  coefficients,
}: {
  electricityKwh: number;
  pvConsumedKwh: number;
  /** Green power bought: certificates (1,000 kWh each) and green-power contracts. */
  greenPowerKwh: number;
  renewableHeatKwh: number;
  gasM3: number;
  purchasedHeatKwh: number;
  coefficients: CoalEquivalents;
}): { renewableTce: number; totalTce: number; share: number | null } {
  const c = coefficients;
  const renewableElectricityKwh = Math.min(electricityKwh, pvConsumedKwh + greenPowerKwh);
  const renewableTce =
    (renewableElectricityKwh * c.electricityKgcePerKwh + renewableHeatKwh * c.heatKgcePerKwh) / 1000;
  const totalTce =
    comprehensiveEnergyKgce({
      electricityKwh,
      gasM3,
      heatKwh: purchasedHeatKwh + renewableHeatKwh,
      coefficients: c,
    }) / 1000;
  return { renewableTce, totalTce, share: ratio(renewableTce, totalTce) };
}

/** Where an annual intensity stands against GB/T 51161-2016 (约束值 must not be exceeded; 引导值 is the aim). */
export interface IntensityAgainstStandard {
  /** Intensity ÷ constraint value: above 1 breaches the constraint. */
  ofConstraint: number;
  /** Intensity ÷ guide value, when the standard gives one for the building. */
  ofGuide: number | null;
  status: 'above_constraint' | 'between_guide_and_constraint' | 'at_or_below_guide' | 'within_constraint';
}

/**
 * Compares an annual energy use intensity (kWh/m²·a, calendar year or rolling 12 months) with the GB/T 51161-2016
 * constraint value and, where known, the guide value of the building's type, class and climate zone (seeds/policy).
 */
export function intensityAgainstStandard({
  euiKwhM2,
  constraintKwhM2,
  guideKwhM2,
}: {
  euiKwhM2: number;
  constraintKwhM2: number;
  guideKwhM2?: number;
}): IntensityAgainstStandard {
  const ofConstraint = euiKwhM2 / constraintKwhM2;
  const ofGuide = guideKwhM2 === undefined ? null : euiKwhM2 / guideKwhM2;
  let status: IntensityAgainstStandard['status'];
  if (ofConstraint > 1) status = 'above_constraint';
  else if (ofGuide === null) status = 'within_constraint';
  else status = ofGuide > 1 ? 'between_guide_and_constraint' : 'at_or_below_guide';
  return { ofConstraint, ofGuide, status };
}

/**
 * The renewable share a new data centre should reach in `year` under a trajectory of `stepPerYear` (a share, e.g. 0.10
 * for +10 points) per whole year since commissioning (海淀区碳达峰实施方案 §七(二), read as percentage points: an
 * inference marked unverified in seeds/policy), from `startShare` and capped at 1.
 */
export function renewableTrajectoryTarget({
  commissionedYear,
  year,
  stepPerYear,
  startShare = 0,
}: {
  commissionedYear: number;
  year: number;
  stepPerYear: number;
  startShare?: number;
}): number {
  return Math.min(1, startShare + Math.max(0, year - commissionedYear) * stepPerYear);
}

/**
 * The differential electricity tariff of a data centre over its PUE limit (北京市存量数据中心优化工作方案, read as:
 * the over-limit electricity is E_facility − limit × E_IT; the part up to 1× the limit's electricity pays
 * `withinCnyPerKwh`, the part beyond it `beyondCnyPerKwh`; the reading of "over-limit part" is unverified).
 */
export function pueTariffCny({
  facilityKwh,
  itKwh,
  limit,
  withinCnyPerKwh,
  beyondCnyPerKwh,
}: {
  facilityKwh: number;
  itKwh: number;
  limit: number;
  withinCnyPerKwh: number;
  beyondCnyPerKwh: number;
}): number {
  const allowed = limit * itKwh;
  const over = Math.max(0, facilityKwh - allowed);
  const within = Math.min(over, allowed);
  return within * withinCnyPerKwh + (over - within) * beyondCnyPerKwh;
}

/**
 * The share of a window (a year, a rolling 12 months) that has elapsed at `asOfMs`, 0..1: the basis of every
 * projection to the window's end. A closed window has elapsed whole (1): it is never annualised. Reading completeness
 * is no basis: readings lost without energy lost (the register keeps counting) would inflate the projection.
 */
export function elapsedShare({
  windowStartMs,
  windowEndMs,
  asOfMs,
}: {
  windowStartMs: number;
  windowEndMs: number;
  asOfMs: number;
}): number {
  if (windowEndMs <= windowStartMs) return 1;
  return Math.min(1, Math.max(0, (asOfMs - windowStartMs) / (windowEndMs - windowStartMs)));
}

/** Below this share of its window elapsed, a projection to the window's end is not made (a tenth of a year). */
export const MIN_ELAPSED_SHARE = 0.1;

/** The part of a KPI window an alert judges: what has elapsed of it since monitoring of the site began. */
export interface JudgedSpan {
  /** Where the judged part begins: the window's start, or the site's first reading when that is later. */
  fromMs: number;
  /** The judged part's share of the window, 0..1. */
  share: number;
  /**
   * The window's completeness over the judged part alone, 0..1: a window's stored completeness counts every reading
   * the whole window owes (those before monitoring began and those still to come as missing), so it is divided by the
   * judged share. Missing readings within the judged part still lower it.
   */
  completeness: number;
}

/**
 * The judged part of the window [windowStartMs, windowEndMs) at `nowMs` for a site monitored since
 * `monitoredFromMs` (its first reading), and the window's `completeness` over that part (docs/domain.md,
 * "Completeness"). None when nothing of the window has been monitored yet.
 */
export function judgedSpan({
  windowStartMs,
  windowEndMs,
  nowMs,
  monitoredFromMs,
  completeness,
}: {
  windowStartMs: number;
  windowEndMs: number;
  nowMs: number;
  monitoredFromMs: number;
  completeness: number;
}): JudgedSpan | null {
  const fromMs = Math.max(windowStartMs, monitoredFromMs);
  const share = (Math.min(windowEndMs, nowMs) - fromMs) / (windowEndMs - windowStartMs);
  if (!(share > 0)) return null;
  return { fromMs, share: Math.min(1, share), completeness: Math.min(1, completeness / Math.min(1, share)) };
}

/**
 * Reduction of a per-m² intensity against the site's baseline (Haidian public institutions: −8% energy and −9% carbon
 * per m² by 2025, seeds/policy), from a year's (or rolling 12 months') intensity so far, projected linearly to the
 * window's end by the share of it elapsed (`elapsedShare`; 1 for a closed window, which is not projected), so that a
 * year to date compares with a baseline year. None before a tenth of the window has elapsed.
 */
export function reductionAgainstBaseline({
  intensity,
  elapsed,
  baseline,
}: {
  intensity: number;
  elapsed: number;
  baseline: number;
}): number | null {
  if (elapsed < MIN_ELAPSED_SHARE) return null;
  return reduction({ current: intensity / elapsed, baseline });
}

/**
 * Use of a public building's annual electricity quota (用电限额) projected to the year end: the year's energy so far
 * projected linearly by the share of the year elapsed (`elapsedShare`; 1 once the year is closed) over the quota.
 * Beijing: more than 20% over can trigger an ordered energy audit (seeds/policy). None before a tenth of the year.
 */
export function projectedQuotaUse({
  energyKwh,
  elapsed,
  quotaKwh,
}: {
  energyKwh: number;
  elapsed: number;
  quotaKwh: number;
}): number | null {
  return elapsed < MIN_ELAPSED_SHARE || quotaKwh <= 0 ? null : energyKwh / elapsed / quotaKwh;
}
