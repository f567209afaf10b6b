export { CoreModule } from './core.module';
export { MAX_REQUEST_BODY, createApp, type AppDefinition } from './create-app';
export { LiveEvents, type LiveEvent } from './live-events';
export { ProvisionedDevices } from './provisioned-devices';
export { HealthRegistry, type HealthCheck, type HealthReport } from './health.registry';
export { main, runApps } from './run-app';
export { onShutdownSignal } from './shutdown';
export { PEAKWATCH_VERSION } from './version';
export { EXIT, UsageError } from './usage.error';
