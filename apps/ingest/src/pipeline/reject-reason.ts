/**
 * Why a message or reading was refused. Every rejection is counted by reason (`/metrics`) and recorded in InfluxDB
 * (`ingest_reject`). These codes are part of the public contract: dashboards and alerts use them.
 */
export const REJECT_REASONS = [
  /** The topic is not `energy/v1/{siteId}/{deviceId}/{telemetry|status|event}`. */
  'bad_topic',
  /** The device is not in the registry. */
  'unknown_device',
  /** The device is registered under another site than the topic names. */
  'site_mismatch',
  /** A reading or event stamped after the device's `removedAt` in the registry (its final reading is at it). */
  'device_removed',
  /** A client published under a topic that is not its own (refused by the broker's ACL). */
  'topic_not_allowed',
  'payload_too_large',
  'malformed_json',
  /** Not an object or array of objects with `ts`, optional `seq` and `values`. */
  'bad_envelope',
  'batch_too_large',
  'bad_timestamp',
  'timestamp_in_future',
  'timestamp_too_old',
  'bad_seq',
  'no_values',
  'unknown_metric',
  /** A value that is not a finite number (NaN, Infinity, a string). */
  'bad_value',
  /** A status payload other than `online` / `offline`. */
  'bad_status',
  /** A lifecycle event that is not a valid `meter_replaced` / `register_reset`. */
  'bad_event',
] as const;

export type RejectReason = (typeof REJECT_REASONS)[number];
