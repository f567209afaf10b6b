/** Tables of the state store, as Kysely sees them. Timestamps are ISO 8601 UTC strings, portable across dialects. */
export interface StateSchema {
  state_info: { key: string; value: string; updated_at: string };
}
