/** PV array and inverter parameters (IEC 61724-1 names P0 the DC nameplate). */
export interface PvModel {
  /** DC nameplate P0 (kWp). */
  peakPowerKwp: number;
  /** Soiling, wiring, mismatch and ageing losses together (fraction kept, e.g. 0.90). */
  derating: number;
  /** Inverter efficiency (e.g. 0.96). */
  inverterEfficiency: number;
  /** Power temperature coefficient γ (1/K, about −0.004 for crystalline silicon). */
  tempCoeffPerK: number;
  /** Nominal operating cell temperature (°C, about 45). */
  noctC: number;
}

export const DEFAULT_PV = {
  derating: 0.9,
  inverterEfficiency: 0.96,
  tempCoeffPerK: -0.004,
  noctC: 45,
} as const;

/**
 * AC output of a PV system (kW) for plane-of-array irradiance G and air temperature:
 * T_cell = T_air + (NOCT − 20)/800 · G (NOCT model), P_dc = P0 · G/1000 · (1 + γ (T_cell − 25)) · derating,
 * P_ac = P_dc · η_inv, clipped at P0 (the inverter's rating); zero without irradiance.
 */
export function pvPowerKw(
  { irradianceWm2, airTempC }: { irradianceWm2: number; airTempC: number },
  pv: PvModel,
): number {
  if (irradianceWm2 <= 0) return 0;
  const cellTempC = airTempC + ((pv.noctC - 20) / 800) * irradianceWm2;
  const dc =
    pv.peakPowerKwp * (irradianceWm2 / 1000) * (1 + pv.tempCoeffPerK * (cellTempC - 25)) * pv.derating;
  return Math.min(pv.peakPowerKwp, Math.max(0, dc * pv.inverterEfficiency));
}
