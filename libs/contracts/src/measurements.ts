/** InfluxDB measurement names (lowercase snake_case, docs/contracts.md). */
export const MEASUREMENTS = {
  /** Raw readings: tags site, device, kind, role, district; one field per metric. */
  telemetry: 'telemetry',
  /** Register events of meters (replacements, resets): tags as telemetry and `type`; fields final_*, start_*. */
  meterEvent: 'meter_event',
  /** Devices' retained status (`online`, `offline`): tags site, device; field status. */
  deviceStatus: 'device_status',
  /** Rejected messages: reason, topic, device, bounded excerpt. */
  ingestReject: 'ingest_reject',
  /**
   * Late data: one point per message whose readings were older than LATE_AFTER_MS on arrival; tags site, device;
   * fields earliest_ms, latest_ms (device time), readings; stamped with the arrival time. Analytics recomputes the
   * KPI windows these spans touch.
   */
  ingestLate: 'ingest_late',
  /** KPI series: tags kpi, scope, entity, period; fields value, numerator, denominator, completeness, estimated. */
  kpi: 'kpi',
  /** Alert state changes, for Grafana annotations: fields title (English), title_zh, value, threshold. */
  alertEvent: 'alert_event',
  /**
   * Measured demand-response events: tags event, district, site (`total` for the event's sites together); fields
   * requested_kw, reduced_kw, shifted_kwh, met, completeness, ends_at; stamped with the event's start.
   */
  drEvent: 'dr_event',
  /**
   * An organisation's carbon-market position as each monthly report states it (docs/reports.md, "Carbon-market
   * position"): tags org, district (its first site's), year; fields allowance_t, to_date_t, projected_t, surplus_t,
   * surplus_cny, warning, report_version; stamped with the end of the report's month.
   */
  carbonPosition: 'carbon_position',
  /**
   * A district's standing as each alert evaluation judges it (docs/contracts.md, "District standing"): one point per
   * site and regulator rule: tags district, site, rule; fields title (English), title_zh, threshold, state, and value, margin,
   * completeness when known; stamped with the evaluation's time, written when the judgement changes and hourly.
   */
  standing: 'standing',
  /**
   * A month of a meter whose raw readings the retention job replaced by quarter snapshots (docs/retention.md): tags as
   * telemetry; fields to_ms (the month's end), readings (raw readings replaced), and per register metric the first and
   * last reading of the month (first_time_<metric>, first_<metric>, last_time_<metric>, last_<metric>); stamped with
   * the month's start.
   */
  telemetryDownsampled: 'telemetry_downsampled',
  /**
   * The quarter snapshots of a down-sampled month (docs/retention.md): tags as telemetry; fields readings (raw readings
   * in the quarter), batches (their import batches, comma-separated), and per register metric booked in the quarter
   * `<metric>` (the register at its last reading), `<metric>_energy`, `<metric>_estimated_energy`,
   * `<metric>_estimated`, `<metric>_unknown`; stamped with the quarter's start.
   */
  telemetryQuarter: 'telemetry_quarter',
  /**
   * Incidents (docs/incidents.md): one point per incident and site at each change (opened, a member joined or
   * resolved, resolved): tags incident, kind (platform, segment, gateway, site), cause, district, site; fields state
   * (`open`, `resolved`), members (its alerts at the site), title (English), title_zh; stamped with the change.
   */
  incident: 'incident',
} as const;

/** Metric names a device may send, each carrying its unit (docs/contracts.md, "MQTT"). */
export const METRICS = {
  energy_import_kwh: { unit: 'kWh', cumulative: true },
  energy_export_kwh: { unit: 'kWh', cumulative: true },
  power_kw: { unit: 'kW', cumulative: false },
  heat_kwh: { unit: 'kWh', cumulative: true },
  gas_m3: { unit: 'm3', cumulative: true },
  water_m3: { unit: 'm3', cumulative: true },
  irradiance_w_m2: { unit: 'W/m2', cumulative: false },
  outdoor_temp_c: { unit: '°C', cumulative: false },
  flow_temp_c: { unit: '°C', cumulative: false },
  return_temp_c: { unit: '°C', cumulative: false },
} as const satisfies Record<string, { unit: string; cumulative: boolean }>;

export type MetricName = keyof typeof METRICS;

/** The register metrics (cumulative counters): energy, heat, gas; the others are instantaneous. */
export const CUMULATIVE_METRICS = (Object.keys(METRICS) as MetricName[]).filter((m) => METRICS[m].cumulative);

/** Whether a name (from a device, a file, a caller) is a metric of the contract: an own key, never `constructor`. */
export function isMetricName(name: string): name is MetricName {
  return Object.hasOwn(METRICS, name);
}

export const KPI_SCOPES = ['site', 'district', 'city'] as const;
/** A reading older than this on arrival is late: the KPI windows it falls in may have been computed already. */
export const LATE_AFTER_MS = 15 * 60_000;

/** The `entity` of city-scope KPIs (every site of the registry). */
export const CITY_ENTITY = 'beijing';

export const KPI_PERIODS = ['15m', '1h', '1d', '1mo', '1y', 'rolling_12mo'] as const;
export type KpiScope = (typeof KPI_SCOPES)[number];
export type KpiPeriod = (typeof KPI_PERIODS)[number];
