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
  api_key: {
    /** Public part of the key (`pwk_<id>.<secret>`), shown in lists and logs. */
    id: string;
    name: string;
    /** `admin`, `facility_manager`, `emitter` or `regulator`. */
    role: string;
    /** Site ids (comma-separated) of a facility manager, an organisation id, a district id; empty for an admin. */
    scope: string;
    secret_hash: string;
    created_at: string;
    revoked_at: string | null;
  };
}
