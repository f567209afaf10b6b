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
  alert_state: {
    rule_id: string;
    /** A site id, or a device id for per-device rules. */
    entity: string;
    site_id: string;
    /** inactive, pending, firing, resolved */
    state: string;
    since: string;
    episode: number;
    value: number | null;
    acked_at: string | null;
    acked_by: string | null;
    escalated_at: string | null;
  };
  alert_history: {
    id: string;
    rule_id: string;
    entity: string;
    site_id: string;
    at: string;
    /** pending, firing, resolved, inactive, acknowledged, escalated */
    event: string;
    episode: number;
    /** JSON: value, threshold, completeness, who acknowledged. */
    detail: string;
  };
  outbox: {
    /** The receiver's idempotency key (X-PeakWatch-Delivery). */
    delivery_id: string;
    /** webhook or mqtt */
    channel: string;
    /** URL of a webhook, topic of an MQTT message. */
    target: string;
    payload: string;
    created_at: string;
    attempts: number;
    next_attempt_at: string;
    delivered_at: string | null;
    last_error: string | null;
    /** What the receiver answered on delivery (a report's receipt). */
    receipt: string | null;
  };
  job_lease: {
    /** kpi, alerts, reports */
    job: string;
    /** The run: the ISO start of the schedule's period it belongs to. */
    slot: string;
    /** A share of the run's work (a share of the sites), or the whole of it. */
    part: string;
    /** The replica holding it (host, process id and a random suffix). */
    holder: string;
    lease_until: string;
    started_at: string;
    done_at: string | null;
    /** How many times another replica took it over after its holder stopped renewing it. */
    takeovers: number;
    /** What the part's work left for the run's other parts (a KPI share's partial roll-ups, JSON), if anything. */
    result: string | null;
  };
  report: {
    org_id: string;
    /** YYYY-MM (monthly) or YYYY (annual) */
    period: string;
    version: number;
    kind: string;
    content_hash: string;
    /** The version this one corrects. */
    corrects: number | null;
    /** JSON array of the changes from the version it corrects. */
    changes: string;
    /** JSON array of what in the evidence caused them (null: made before evidence bundles). */
    causes: string | null;
    created_at: string;
    json: string;
    /** The outbox delivery submitting it, when a receiver is configured. */
    delivery_id: string | null;
  };
  allowance: {
    org_id: string;
    /** YYYY, the compliance year */
    year: string;
    version: number;
    /** JSON of the declaration (allowanceSchema). */
    declaration: string;
    /** The caller that declared it (audit log's actor). */
    declared_by: string;
    declared_at: string;
  };
  provisioned_device: {
    device_id: string;
    site_id: string;
    /** The device as in the registry (JSON). */
    spec: string;
    created_at: string;
  };
  report_input: {
    org_id: string;
    period: string;
    /** JSON (libs/state declared-inputs.ts): greenCertificates, greenPower, purchasedHeatKwh, output. */
    inputs: string;
    updated_at: string;
  };
  audit_log: {
    id: string;
    at: string;
    actor: string;
    role: string;
    action: string;
    target: string;
    /** JSON, never a secret. */
    detail: string;
  };
  import_batch: {
    id: string;
    file_name: string;
    file_sha256: string;
    /** An API key id, or `cli`. */
    actor: string;
    role: string;
    reason: string;
    created_at: string;
    /** applying, applied, rolled_back */
    state: string;
    rows_accepted: number;
    rows_rejected: number;
    rows_replaced: number;
    /** JSON: the dry run the batch was applied from (devices, spans, windows, reports). */
    summary: string;
    rolled_back_at: string | null;
  };
  import_rejection: { batch_id: string; row_number: number; field: string; reason: string; detail: string };
  dr_event: {
    id: string;
    district: string;
    /** JSON array of the site ids it asks to respond. */
    sites: string;
    starts_at: string;
    ends_at: string;
    requested_kw: number;
    reason: string;
    /** An API key id. */
    actor: string;
    role: string;
    created_at: string;
    /** JSON (DrEventResult), once measured. */
    result: string | null;
    measured_at: string | null;
  };
  /** A stored point an import replaced, as line protocol (with its own tags), written back by a rollback. */
  import_replaced: { batch_id: string; device_id: string; ts_ms: number; line: string };
  /** An outage of PeakWatch itself as one of its processes saw it (docs/incidents.md, "Platform outages"). */
  platform_outage: {
    id: string;
    /** `broker`, `influxdb` or `ingest` (the ingest process not running). */
    component: string;
    started_at: string;
    /** None while it lasts. */
    ended_at: string | null;
    /** The ingest replica that saw it (none: recorded before replicas were told apart). */
    replica: string | null;
  };
  /** Alerts of one cause grouped (docs/incidents.md). */
  incident: {
    id: string;
    /** `platform`, `segment`, `gateway` or `site`. */
    kind: string;
    /** The component, segment, gateway or site id. */
    cause: string;
    opened_at: string;
    resolved_at: string | null;
  };
  /** An alert's episode that belongs to an incident: its own notifications are the incident's. */
  incident_member: {
    rule_id: string;
    entity: string;
    episode: number;
    incident_id: string;
    site_id: string;
    fired_at: string;
    resolved_at: string | null;
    /** JSON array of the notifications its firing would have had (one per audience): what incidents list of it. */
    notifications: string;
  };
  /** A data-quality firing held (INCIDENT_WAIT_MINUTES) to see whether it shares a cause with others. */
  alert_hold: {
    rule_id: string;
    entity: string;
    episode: number;
    site_id: string;
    held_at: string;
    /** JSON array of the cause keys it could share (`kind:cause`). */
    causes: string;
    /** JSON array of its notifications, in order, delivered as they are if it joins no incident. */
    notifications: string;
  };
}
