import type { LocalTime } from './clock';

/**
 * A data centre: IT load with a daily cycle (peak mid-afternoon), and facility overhead (cooling, power delivery,
 * lighting) that rises with outdoor temperature, so that the interim PUE = P_total / P_IT moves inside
 * [pueLow, pueHigh] between `coolTempC` and `warmTempC` (ISO/IEC 30134-2 defines PUE = E_DC / E_IT).
 */
export interface DataCentreModel {
  /** Mean IT load (kW). */
  itLoadKw: number;
  /** Relative amplitude of the daily IT cycle (e.g. 0.06). */
  dailyAmplitude: number;
  pueLow: number;
  pueHigh: number;
  coolTempC: number;
  warmTempC: number;
  /** A plant degrading: PUE rises by `puePerDay` a day from `since` (an offset from the run's start, or a time). */
  drift?: { since: string; puePerDay: number; upTo?: number };
}

export const DEFAULT_DATA_CENTRE = {
  dailyAmplitude: 0.06,
  pueLow: 1.25,
  pueHigh: 1.55,
  coolTempC: -5,
  warmTempC: 35,
} as const;

/** Interim PUE at an outdoor temperature, before noise; always inside [pueLow, pueHigh]. */
export function interimPue(outdoorTempC: number, dc: DataCentreModel): number {
  const x = Math.min(1, Math.max(0, (outdoorTempC - dc.coolTempC) / (dc.warmTempC - dc.coolTempC)));
  return dc.pueLow + (dc.pueHigh - dc.pueLow) * x;
}

/**
 * IT and total power (kW). `noise` (two standard normals) perturbs IT load by about 1% and PUE by 0.005, and the
 * result is kept inside the band; a drift (a degrading plant, `driftDays` since it began) adds to it.
 */
export function dataCentrePowerKw(
  {
    local,
    outdoorTempC,
    noise,
    driftDays = 0,
  }: { local: LocalTime; outdoorTempC: number; noise: [number, number]; driftDays?: number },
  dc: DataCentreModel,
): { itKw: number; totalKw: number } {
  const itKw =
    dc.itLoadKw *
    (1 + dc.dailyAmplitude * Math.cos((2 * Math.PI * (local.hour - 15)) / 24)) *
    (1 + 0.01 * noise[0]);
  const banded = Math.min(dc.pueHigh, Math.max(dc.pueLow, interimPue(outdoorTempC, dc) + 0.005 * noise[1]));
  // a drift adds to the banded PUE, up to its ceiling (never below the band's own value)
  const drift = dc.drift ? Math.max(0, driftDays) * dc.drift.puePerDay : 0;
  const pue = Math.min(banded + drift, Math.max(banded, dc.drift?.upTo ?? Infinity));
  return { itKw, totalKw: itKw * pue };
}
