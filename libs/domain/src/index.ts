/**
 * The framework-free domain library: every formula PeakWatch computes lives here once, with the standard or clause it
 * implements. Plain data in, plain data out, units in the names; no NestJS, MQTT or database imports (ESLint enforces).
 */
export { MJ_PER_KWH, MS_PER_HOUR, averagePower, energyFromPower } from './energy';
export {
  GAP_FACTOR,
  MAX_BRIDGED_GAP_MS,
  RATED_POWER_TOLERANCE,
  bookIntoWindows,
  registerDeltas,
  type DeltaKind,
  type RegisterDelta,
  type RegisterEvent,
  type RegisterMeter,
  type RegisterReading,
  type WindowEnergy,
} from './register';
export * from './kpi';
export * from './rollup';
export * from './tariff';
export * from './demand-response';
export * from './carbon-market';
