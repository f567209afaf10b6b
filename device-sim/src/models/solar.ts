import { localTime } from './clock';

export interface Location {
  latitudeDeg: number;
  longitudeDeg: number;
  utcOffsetHours: number;
}

const RAD = Math.PI / 180;

/**
 * Cosine of the solar zenith angle. Declination and equation of time from Spencer (1971), "Fourier series
 * representation of the position of the sun"; hour angle from local solar time.
 */
export function cosZenith({ tsMs, location }: { tsMs: number; location: Location }): number {
  const local = localTime(tsMs, location.utcOffsetHours);
  const b = (2 * Math.PI * (local.dayOfYear - 1)) / 365;
  const declination =
    0.006918 -
    0.399912 * Math.cos(b) +
    0.070257 * Math.sin(b) -
    0.006758 * Math.cos(2 * b) +
    0.000907 * Math.sin(2 * b) -
    0.002697 * Math.cos(3 * b) +
    0.00148 * Math.sin(3 * b);
  const equationOfTimeMin =
    229.18 *
    (0.000075 +
      0.001868 * Math.cos(b) -
      0.032077 * Math.sin(b) -
      0.014615 * Math.cos(2 * b) -
      0.040849 * Math.sin(2 * b));
  // Beijing (116.4° E) keeps UTC+8 time, whose meridian is 120° E: solar noon falls about 14 minutes after 12:00.
  const solarHour =
    local.hour + (4 * (location.longitudeDeg - 15 * location.utcOffsetHours) + equationOfTimeMin) / 60;
  const hourAngle = 15 * (solarHour - 12) * RAD;
  const lat = location.latitudeDeg * RAD;
  return Math.sin(lat) * Math.sin(declination) + Math.cos(lat) * Math.cos(declination) * Math.cos(hourAngle);
}

/**
 * Global horizontal irradiance under a clear sky (W/m²), Haurwitz (1945): GHI = 1098 · cos θz · exp(−0.057 / cos θz).
 * Zero when the sun is below the horizon.
 */
export function clearSkyIrradiance(cosZ: number): number {
  return cosZ <= 0 ? 0 : 1098 * cosZ * Math.exp(-0.057 / cosZ);
}

/**
 * Irradiance under a cloud fraction N (0..1), Kasten & Czeplak (1980): G = G_clear · (1 − 0.75 · N^3.4).
 */
export function cloudyIrradiance({
  clearSkyWm2,
  cloudFraction,
}: {
  clearSkyWm2: number;
  cloudFraction: number;
}): number {
  return clearSkyWm2 * (1 - 0.75 * cloudFraction ** 3.4);
}
