/** Milliseconds in one hour: kWh = kW × h. */
export const MS_PER_HOUR = 3_600_000;

/** Megajoules in one kilowatt-hour (SI: 1 kWh = 3.6 MJ; 1,000 MJ = 1 GJ). */
export const MJ_PER_KWH = 3.6;

/**
 * Energy delivered at a constant power over an interval: E [kWh] = P [kW] × Δt [h].
 * @returns kWh
 */
export function energyFromPower({ powerKw, intervalMs }: { powerKw: number; intervalMs: number }): number {
  return (powerKw * intervalMs) / MS_PER_HOUR;
}

/**
 * Average power over an interval from the energy it carried: P̄ [kW] = E [kWh] / Δt [h].
 * Used to check that a register delta is physically possible for a device's rated power (docs/domain.md, "Registers": implausible).
 * @returns kW, or null for an empty interval
 */
export function averagePower({
  energyKwh,
  intervalMs,
}: {
  energyKwh: number;
  intervalMs: number;
}): number | null {
  if (intervalMs <= 0) return null;
  return (energyKwh * MS_PER_HOUR) / intervalMs;
}
