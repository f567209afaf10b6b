/**
 * The device simulator: physical models, faults and ground truth for the demo, the end-to-end tests and the
 * benchmarks (device-sim/README.md).
 */
export { addSimCommand, simCommand, SIM_DEFAULTS } from './cli';
export {
  GROUND_TRUTH_FORMAT,
  GroundTruthBuilder,
  type FaultRecord,
  type SilenceTruth,
  type SiteWindowTruth,
} from './ground-truth';
export { LOAD_SITE, loadDeviceId, runLoad, type LoadSummary } from './load';
export { anchoredAt, loadScenario, faultTime, type Fault, type Scenario } from './scenario';
export { Simulation, type Outgoing, type Reading } from './simulation';
export { generate, runScenario, writeTruth, type RunOptions, type RunSummary } from './run';
export { DevicePublishers } from './publisher';
