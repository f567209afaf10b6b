export { recordAlertHistory } from './alert-history';
export { AuditLog, type AuditEntry, type AuditRecord } from './audit-log';
export { Allowances, allowanceSchema, type Allowance, type AllowanceDeclaration } from './allowances';
export {
  DeclaredInputsRepository,
  declaredInputsSchema,
  declaresGreenPower,
  greenPowerKwh,
  greenPowerSchema,
  type DeclaredInputs,
  yearInputs,
  type GreenPower,
} from './declared-inputs';
export { MigrationError, StateStore } from './state-store';
export { StateModule } from './state.module';
export type { StateSchema } from './state.schema';
export { MIGRATIONS } from './migrations';
export {
  CredentialRoleError,
  CredentialsRepository,
  grantOf,
  type MqttIdentity,
  type MqttRole,
} from './credentials';
export { deliveryId, enqueue, type OutboxChannel } from './outbox';
export { JobLeases, slotOf, type LeaseClaim } from './job-leases';
export { ManagedPostgres } from './managed-postgres';
export { SECRET_BYTES, hashSecret, newSecret, verifySecret } from './secret-hash';
export {
  AuthThrottledError,
  DEFAULT_VERIFIER_LIMITS,
  SecretVerifier,
  type VerifierLimits,
} from './secret-verifier';
export { ImportBatches, type ImportBatch, type ImportRejection } from './import-batches';
export {
  DrEvents,
  drEventRequestSchema,
  type DrAnnouncement,
  type DrEvent,
  type DrEventRequest,
  type DrEventResult,
  type DrReceivers,
  type DrRefusal,
  type DrRequester,
  type DrSiteResult,
} from './dr-events';
export {
  INGEST_HEARTBEAT_KEY,
  INGEST_HEARTBEAT_MS,
  INGEST_HEARTBEAT_STALE_MS,
  closeOutages,
  openOutage,
  recordOutage,
} from './platform-outages';
