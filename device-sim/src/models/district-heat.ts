import type { LocalTime } from './clock';
import { inHeatingSeason } from './heat-pump';

/**
 * A building heated from a district network (集中供热), metered at its substation: in Beijing's statutory heating
 * season the network delivers the building's heat loss below its balance point, Q = UA · (T_balance − T_out),
 * reduced at night; nothing outside the season.
 */
export interface DistrictHeatModel {
  /** Building heat-loss coefficient (kW/K). */
  heatLossKwPerK: number;
  balanceTempC: number;
}

export const DEFAULT_DISTRICT_HEAT = { balanceTempC: 16 } as const;

/** Heat delivered (kW) during a step at `outdoorTempC`. */
export function districtHeatKw(
  { local, outdoorTempC }: { local: LocalTime; outdoorTempC: number },
  model: DistrictHeatModel,
): number {
  if (!inHeatingSeason(local)) return 0;
  const night = local.hour < 6 || local.hour >= 22;
  return model.heatLossKwPerK * Math.max(0, model.balanceTempC - outdoorTempC) * (night ? 0.7 : 1);
}
