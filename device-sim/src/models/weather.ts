import { Rng } from '../rng';
import { localTime } from './clock';

/**
 * Beijing outdoor temperature: an annual cosine (coldest around 20 January), a diurnal cosine (warmest at 15:00,
 * coldest at 03:00) and a day-to-day anomaly drawn per local day and interpolated between days.
 * Defaults follow Beijing's 1991–2020 climate normals (China Meteorological Administration, station 54511): January
 * mean ≈ −3 °C, July mean ≈ 27 °C, so annual mean ≈ 12.5 °C and amplitude ≈ 15 °C; typical diurnal range ≈ 10 °C.
 */
export interface ClimateModel {
  annualMeanC: number;
  annualAmplitudeC: number;
  coldestDayOfYear: number;
  /** Half the typical daily range (°C). */
  diurnalAmplitudeC: number;
  /** Standard deviation of the day-to-day anomaly (°C). */
  dayToDayStdC: number;
  /** Mean cloud fraction in January and in July (0..1); months in between follow a cosine. */
  cloudWinter: number;
  cloudSummer: number;
  /**
   * Share of the Haurwitz clear-sky irradiance that reaches the ground through Beijing's aerosols (haze). Haurwitz
   * was fitted to clean air; 0.9 brings the annual PV yield to ≈1,250–1,300 kWh/kWp, the range reported for
   * Beijing rooftop systems (China PV yield maps, CPIA annual reports).
   */
  aerosolTransmittance: number;
}

export const BEIJING_CLIMATE: ClimateModel = {
  annualMeanC: 12.5,
  annualAmplitudeC: 15,
  coldestDayOfYear: 20,
  diurnalAmplitudeC: 5,
  dayToDayStdC: 2.5,
  cloudWinter: 0.25,
  cloudSummer: 0.55,
  aerosolTransmittance: 0.9,
};

function dailyAnomaly(seed: number, dayIndex: number, stdC: number): number {
  return Rng.for(seed, 'temperature', dayIndex).normal() * stdC;
}

/** Outdoor air temperature (°C) at an instant. */
export function outdoorTemperatureC(
  { tsMs, utcOffsetHours, seed }: { tsMs: number; utcOffsetHours: number; seed: number },
  climate: ClimateModel,
): number {
  const local = localTime(tsMs, utcOffsetHours);
  const seasonal =
    climate.annualMeanC -
    climate.annualAmplitudeC *
      Math.cos((2 * Math.PI * (local.dayOfYear - climate.coldestDayOfYear)) / 365.25);
  const diurnal = climate.diurnalAmplitudeC * Math.cos((2 * Math.PI * (local.hour - 15)) / 24);
  // Anomalies are pinned at local noon and interpolated linearly, so temperature is continuous across midnight.
  const sinceNoon = local.hour - 12;
  const [d0, frac] =
    sinceNoon >= 0 ? [local.dayIndex, sinceNoon / 24] : [local.dayIndex - 1, (sinceNoon + 24) / 24];
  const anomaly =
    dailyAnomaly(seed, d0, climate.dayToDayStdC) * (1 - frac) +
    dailyAnomaly(seed, d0 + 1, climate.dayToDayStdC) * frac;
  return seasonal + diurnal + anomaly;
}

/** Cloud fraction (0..1) of a local day: the seasonal mean with a per-day draw around it. */
export function cloudFraction(
  { tsMs, utcOffsetHours, seed }: { tsMs: number; utcOffsetHours: number; seed: number },
  climate: ClimateModel,
): number {
  const local = localTime(tsMs, utcOffsetHours);
  const summerWeight =
    (1 - Math.cos((2 * Math.PI * (local.dayOfYear - climate.coldestDayOfYear)) / 365.25)) / 2;
  const mean = climate.cloudWinter + (climate.cloudSummer - climate.cloudWinter) * summerWeight;
  // A skewed draw: many clear or lightly clouded days, some overcast ones, with the seasonal mean.
  const u = Rng.for(seed, 'cloud', local.dayIndex).next();
  const shape = (1 - mean) / Math.max(mean, 0.01);
  return Math.min(1, Math.max(0, u ** shape));
}
