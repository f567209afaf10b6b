import { createHash, createHmac } from 'node:crypto';
import type { AlertRule } from './rules/rules';

/** The JSON body of an alert notification (docs/contracts.md, "Alert notifications"). */
export interface AlertNotification {
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
  /** When the state was entered. */
  at: string;
  firedAt?: string;
  policySource: AlertRule['policySource'];
  /** For a forecast of a breach: the differential tariff it would cost over the year (CNY), where the rule has one. */
  expectedCostCny?: number;
  audience: AlertRule['audience'][number];
}

/** `X-PeakWatch-Signature: sha256=<hex HMAC-SHA256 of the body>`. */
export function signature(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * The idempotency key of one notification to one target: the same rule, entity, episode, state and target always give
 * the same key, so a notification queued twice (a crash between two steps) is one delivery.
 */
export function deliveryId(...parts: (string | number)[]): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
