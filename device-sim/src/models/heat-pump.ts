import type { LocalTime } from './clock';

/**
 * An air-source heat pump heating a building in Beijing's statutory heating season (15 November – 15 March).
 * Heating demand follows degree-hours below the balance point: Q = UA · (T_balance − T_out), reduced at night and
 * capped at the rated heat output. Flow temperature follows a heating curve; COP is a fraction of the Carnot COP
 * between flow and outdoor air: COP = η · T_flow,K / (T_flow,K − T_out,K) (a common second-law model; η ≈ 0.40–0.50
 * reproduces catalogue COPs of 2–4 for air-to-water units, EN 14511 test points A7/W35 ≈ 4, A−7/W55 ≈ 2).
 */
export interface HeatPumpModel {
  /** Building heat-loss coefficient served by this unit (kW/K). */
  heatLossKwPerK: number;
  /** Rated heat output (kW). */
  ratedHeatKw: number;
  carnotEfficiency: number;
  balanceTempC: number;
}

export const DEFAULT_HEAT_PUMP = { carnotEfficiency: 0.45, balanceTempC: 16 } as const;

/** Flow temperature of the heating curve: 35 °C at the balance point, +1 K per K colder, at most 55 °C. */
export function flowTemperatureC(outdoorTempC: number, hp: HeatPumpModel): number {
  return Math.min(55, 35 + Math.max(0, hp.balanceTempC - outdoorTempC));
}

export function copAt(outdoorTempC: number, flowTempC: number, carnotEfficiency: number): number {
  const flowK = flowTempC + 273.15;
  const lift = Math.max(5, flowTempC - outdoorTempC);
  return carnotEfficiency * (flowK / lift);
}

export function inHeatingSeason(local: LocalTime): boolean {
  return (
    local.month >= 12 ||
    local.month <= 2 ||
    (local.month === 11 && local.day >= 15) ||
    (local.month === 3 && local.day <= 15)
  );
}

/** Heat output, electric input (kW), COP and water temperatures; zero output (and no COP) outside the season. */
export function heatPumpState(
  { local, outdoorTempC }: { local: LocalTime; outdoorTempC: number },
  hp: HeatPumpModel,
): { heatKw: number; electricKw: number; cop: number | null; flowTempC: number; returnTempC: number } {
  const flowTempC = flowTemperatureC(outdoorTempC, hp);
  const night = local.hour < 6 || local.hour >= 22;
  const demand = inHeatingSeason(local)
    ? Math.min(
        hp.ratedHeatKw,
        hp.heatLossKwPerK * Math.max(0, hp.balanceTempC - outdoorTempC) * (night ? 0.7 : 1),
      )
    : 0;
  if (demand <= 0) return { heatKw: 0, electricKw: 0, cop: null, flowTempC, returnTempC: flowTempC };
  const cop = copAt(outdoorTempC, flowTempC, hp.carnotEfficiency);
  return {
    heatKw: demand,
    electricKw: demand / cop,
    cop,
    flowTempC,
    returnTempC: flowTempC - 5 * (demand / hp.ratedHeatKw),
  };
}
