/**
 * MQTT topics of the public contract (docs/contracts.md, "MQTT"): `energy/v1/{siteId}/{deviceId}/{telemetry|status|event}`.
 * Changing them needs a changelog note and a migration path.
 */
export const TOPIC_ROOT = 'energy/v1';

/**
 * Site, device, district, organisation and key-scope ids: lowercase, digits, `_` and `-`, 1 to 64 characters,
 * starting with a letter or digit. `ID_CHARS` is the pattern's body, for messages and larger patterns.
 */
export const ID_CHARS = '[a-z0-9][a-z0-9_-]{0,63}';
export const ID_PATTERN = new RegExp(`^${ID_CHARS}$`);

export const DEVICE_CHANNELS = ['telemetry', 'status', 'event'] as const;
export type DeviceChannel = (typeof DEVICE_CHANNELS)[number];

/** Retained payloads of the status topic (the LWT publishes `offline`). */
export const DEVICE_STATUS = { online: 'online', offline: 'offline' } as const;

export interface DeviceTopic {
  siteId: string;
  deviceId: string;
  channel: DeviceChannel;
}

export function isValidId(id: string): boolean {
  return ID_PATTERN.test(id);
}

export function deviceTopic(siteId: string, deviceId: string, channel: DeviceChannel): string {
  return `${TOPIC_ROOT}/${siteId}/${deviceId}/${channel}`;
}

/** Parses a device topic; undefined when it is not one (wrong root, bad id, unknown channel, extra levels). */
export function parseDeviceTopic(topic: string): DeviceTopic | undefined {
  const parts = topic.split('/');
  if (parts.length !== 5 || `${parts[0]}/${parts[1]}` !== TOPIC_ROOT) return undefined;
  const [, , siteId, deviceId, channel] = parts as [string, string, string, string, string];
  if (!isValidId(siteId) || !isValidId(deviceId)) return undefined;
  if (!(DEVICE_CHANNELS as readonly string[]).includes(channel)) return undefined;
  return { siteId, deviceId, channel: channel as DeviceChannel };
}

/** Where PeakWatch's alerts are published for MQTT receivers: `alerts/v1/{district}/{siteId}`. */
export const ALERT_TOPIC_ROOT = 'alerts/v1';

/** The topic of a site's alerts. */
export function alertTopic(district: string, siteId: string): string {
  return `${ALERT_TOPIC_ROOT}/${district}/${siteId}`;
}

/** Where a site's demand-response announcements are published: `alerts/v1/{district}/{siteId}/dr`. */
export function drAnnouncementTopic(district: string, siteId: string): string {
  return `${alertTopic(district, siteId)}/dr`;
}

/**
 * Where demand-response requests reach PeakWatch over MQTT: `dr/v1/{district}/requests` (docs/contracts.md,
 * "Demand-response events"), published by the district's grid operators only.
 */
export const DR_TOPIC_ROOT = 'dr/v1';

export function drRequestTopic(district: string): string {
  return `${DR_TOPIC_ROOT}/${district}/requests`;
}

/** The district of a demand-response request's topic; undefined when it is not one. */
export function parseDrRequestTopic(topic: string): string | undefined {
  const parts = topic.split('/');
  if (parts.length !== 4 || `${parts[0]}/${parts[1]}` !== DR_TOPIC_ROOT || parts[3] !== 'requests')
    return undefined;
  return isValidId(parts[2]!) ? parts[2] : undefined;
}

/**
 * The roles of MQTT identities (docs/security.md, "Identities"): a device; one of PeakWatch's own clients; a grid
 * operator of a district (a utility's or aggregator's system sending demand-response requests).
 */
export type MqttRole = 'device' | 'service' | 'dr_operator';

/**
 * What an MQTT identity may do, as topic prefixes (each ends with `/`): a topic is allowed when it starts with one of
 * them, a subscription filter when its literal start is one of them (`energy/v1/+/…` does not start with a device's
 * prefix). The embedded broker enforces these, and the same grants are provisioned on an external broker
 * (docs/security.md, "Identities").
 */
export interface TopicGrant {
  publish: readonly string[];
  subscribe: readonly string[];
}

/** A device: its own topics, and nothing else. */
export function deviceGrant(siteId: string, deviceId: string): TopicGrant {
  const own = `${TOPIC_ROOT}/${siteId}/${deviceId}/`;
  return { publish: [own], subscribe: [own] };
}

/**
 * PeakWatch's own clients (ingest, the alerts service, observers): they read every device topic and alerts, and
 * publish alerts only; no service can write a device's readings.
 */
export const SERVICE_GRANT: TopicGrant = {
  publish: [`${ALERT_TOPIC_ROOT}/`],
  subscribe: [`${TOPIC_ROOT}/`, `${ALERT_TOPIC_ROOT}/`, `${DR_TOPIC_ROOT}/`],
};

/** A district's grid operator: publishes its district's demand-response requests, and reads nothing. */
export function drOperatorGrant(district: string): TopicGrant {
  return { publish: [`${DR_TOPIC_ROOT}/${district}/`], subscribe: [] };
}

/** Whether a topic, or a subscription filter, lies under one of `prefixes`. */
export function grantCovers(prefixes: readonly string[], topicOrFilter: string): boolean {
  return prefixes.some((prefix) => topicOrFilter.startsWith(prefix));
}

/** The filter of a shared subscription (`$share/{group}/{filter}`), or the filter itself. */
export function unshared(filter: string): string {
  return filter.replace(/^\$share\/[^/]+\//, '');
}
