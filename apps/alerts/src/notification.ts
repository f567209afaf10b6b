import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Language } from '@peakwatch/contracts';
import type { AlertRule } from '@peakwatch/policy';

/** The JSON body of an alert notification (docs/contracts.md, "Alert notifications"). */
export interface AlertNotification {
  type?: undefined;
  /** The language of its texts (ALERT_LANGUAGES of its audience): the rule's title, and the e-mail made of it. */
  language: Language;
  rule: { id: string; title: string };
  severity: AlertRule['severity'];
  state: 'firing' | 'resolved' | 'escalated';
  episode: number;
  entity: { type: 'site' | 'device'; id: string; name: string; siteId: string; district: string };
  value: number | null;
  threshold: number;
  comparison: AlertRule['comparison'];
  window?: { period: string; start: string };
  completeness?: number;
  /** For a window that began before monitoring of the site began: where the part judged begins (its first reading). */
  judgedFrom?: string;
  /** When the state was entered. */
  at: string;
  firedAt?: string;
  policySource: AlertRule['policySource'];
  /** For a forecast of a breach: the differential tariff it would cost over the year (CNY), where the rule has one. */
  expectedCostCny?: number;
  audience: AlertRule['audience'][number];
}

/** A member alert of an incident, as its notifications list it. */
export interface IncidentMember {
  rule: { id: string; title: string };
  entity: AlertNotification['entity'];
  firedAt: string;
  resolvedAt?: string;
}

/**
 * The JSON body of an incident notification (docs/contracts.md, "Incident notifications"): alerts of one cause
 * grouped, told once when it opens and once when it resolves, to each audience its members are told to (never a
 * regulator: incidents are made of data-quality alerts). A receiver bound to a district, and a site's MQTT topic, get
 * the members in it.
 */
export interface IncidentNotification {
  type: 'incident';
  language: Language;
  incident: {
    id: string;
    kind: 'platform' | 'segment' | 'gateway' | 'site';
    /** The component (`broker`, `influxdb`, `ingest`), segment, gateway or site id. */
    cause: string;
    title: string;
    /** An outage of PeakWatch itself: the gaps are the platform's, not the sites' meters'. */
    platform: boolean;
  };
  state: 'opened' | 'resolved';
  openedAt: string;
  resolvedAt?: string;
  /** When the state was entered. */
  at: string;
  members: IncidentMember[];
  audience: AlertRule['audience'][number];
}

/**
 * The key a receiver verifies its webhooks with: its own, derived from ALERT_WEBHOOK_SECRET and its URL
 * (`peakwatch webhook key <url>` prints it), so that no receiver can sign for another (a facility manager's receiver
 * cannot forge a regulator's alerts). HMAC-SHA256(secret, "peakwatch-webhook:" + url), hex.
 */
export function receiverKey(secret: string, url: string): string {
  return createHmac('sha256', secret).update(`peakwatch-webhook:${url}`).digest('hex');
}

/** `X-PeakWatch-Signature: sha256=<hex HMAC-SHA256, with the receiver's key, of "<timestamp>.<delivery>.<body>">`. */
export function signature(
  { timestamp, delivery, body }: { timestamp: number; delivery: string; body: string },
  key: string,
): string {
  return `sha256=${createHmac('sha256', key).update(`${timestamp}.${delivery}.${body}`).digest('hex')}`;
}

/** How old a webhook's timestamp may be when its receiver checks it (docs/contracts.md, "Alert notifications"). */
export const WEBHOOK_TOLERANCE_MS = 5 * 60_000;

/**
 * What a receiver does with a webhook (the reference for receivers, and the tests' receiver): the signature matches
 * its key over the timestamp, the delivery id and the body, and the timestamp is at most WEBHOOK_TOLERANCE_MS old (a
 * replayed request is refused).
 */
export function verifyWebhook(
  headers: Record<string, string | string[] | undefined>,
  body: string,
  key: string,
  nowMs: number,
): boolean {
  const timestamp = Number(headers['x-peakwatch-timestamp']);
  const delivery = String(headers['x-peakwatch-delivery'] ?? '');
  const given = Buffer.from(String(headers['x-peakwatch-signature'] ?? ''));
  const expected = Buffer.from(signature({ timestamp, delivery, body }, key));
  return (
    Number.isSafeInteger(timestamp) &&
    Math.abs(nowMs - timestamp * 1000) <= WEBHOOK_TOLERANCE_MS &&
    given.length === expected.length &&
    timingSafeEqual(given, expected)
  );
}
