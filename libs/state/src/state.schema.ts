/** Tables of the state store, as Kysely sees them. Timestamps are ISO 8601 UTC strings, portable across dialects. */
export interface StateSchema {
  state_info: { key: string; value: string; updated_at: string };
  mqtt_credential: {
    username: string;
    /** `device` (publishes its own topics) or `service` (PeakWatch's own clients). */
    role: string;
    site_id: string | null;
    secret_hash: string;
    created_at: string;
    rotated_at: string;
  };
}
