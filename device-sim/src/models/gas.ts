import type { LocalTime } from './clock';

/** A staff canteen and hot-water boiler on natural gas: meal peaks on weekdays and a small base flow (m³/h). */
export interface GasModel {
  baseM3PerHour: number;
  mealM3PerHour: number;
}

export function gasFlowM3PerHour({ local }: { local: LocalTime }, gas: GasModel): number {
  const weekday = local.weekday >= 1 && local.weekday <= 5;
  const meal =
    weekday && ((local.hour >= 10.5 && local.hour < 13) || (local.hour >= 16.5 && local.hour < 19));
  return gas.baseM3PerHour + (meal ? gas.mealM3PerHour : 0);
}
