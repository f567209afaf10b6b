import type { LocalTime } from './clock';

export type SubmeterCategory = 'lighting_sockets' | 'hvac' | 'power' | 'special';

/**
 * Office electricity per m² by sub-metering category (MOHURD 2008 guideline: A lighting and sockets, B HVAC, C power,
 * D special). Occupied hours are 08:00–18:00 on weekdays (public holidays are not modelled). With Beijing's climate
 * these densities give an annual electricity intensity of roughly 85–100 kWh/m²·a, inside the range reported for
 * Beijing office buildings with district heating (GB/T 51161-2016 background studies; Tsinghua BEEC annual reports).
 * Space heating comes from district heat or heat pumps; HVAC electricity covers chillers, fans and pumps.
 */
export const OFFICE_W_PER_M2 = {
  lightingSockets: { occupied: 9, unoccupied: 2 },
  hvac: {
    occupied: 3,
    unoccupied: 0.5,
    /** Extra cooling power per K above the balance point when occupied. */
    coolingPerK: 1.2,
    coolingBalanceC: 22,
    /** Heating-season circulation pumps and fans per K below the balance point. */
    heatingPerK: 0.15,
    heatingBalanceC: 10,
  },
  power: { occupied: 4, unoccupied: 1 },
  special: { base: 2, lunch: 3 },
} as const;

export function isOccupied(local: LocalTime): boolean {
  return local.weekday >= 1 && local.weekday <= 5 && local.hour >= 8 && local.hour < 18;
}

/** Power (kW) of each sub-metering category of an office of `floorAreaM2`, scaled by `loadScale`. */
export function officeLoadKw({
  local,
  outdoorTempC,
  floorAreaM2,
  loadScale,
}: {
  local: LocalTime;
  outdoorTempC: number;
  floorAreaM2: number;
  loadScale: number;
}): Record<SubmeterCategory, number> {
  const occupied = isOccupied(local);
  const w = OFFICE_W_PER_M2;
  const hvac = occupied
    ? w.hvac.occupied +
      w.hvac.coolingPerK * Math.max(0, outdoorTempC - w.hvac.coolingBalanceC) +
      w.hvac.heatingPerK * Math.max(0, w.hvac.heatingBalanceC - outdoorTempC)
    : w.hvac.unoccupied + w.hvac.heatingPerK * 0.5 * Math.max(0, w.hvac.heatingBalanceC - outdoorTempC);
  const lunch = local.weekday >= 1 && local.weekday <= 5 && local.hour >= 11 && local.hour < 13;
  const perM2 = {
    lighting_sockets: occupied ? w.lightingSockets.occupied : w.lightingSockets.unoccupied,
    hvac,
    power: occupied ? w.power.occupied : w.power.unoccupied,
    special: w.special.base + (lunch ? w.special.lunch : 0),
  };
  const kw = (wPerM2: number): number => (wPerM2 * floorAreaM2 * loadScale) / 1000;
  return {
    lighting_sockets: kw(perM2.lighting_sockets),
    hvac: kw(perM2.hvac),
    power: kw(perM2.power),
    special: kw(perM2.special),
  };
}
