import { createHash } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { StateSchema } from './state.schema';

/**
 * The idempotency key of one message to one target: the same parts always give the same key (a UUID in form), so a
 * message queued twice (a crash between two steps) is one delivery.
 */
export function deliveryId(...parts: (string | number)[]): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** How a message leaves: a signed webhook, an e-mail, an MQTT publication. */
export type OutboxChannel = 'webhook' | 'email' | 'mqtt';

/**
 * Queues one message in the persistent outbox (table `outbox`: alert notifications and report submissions,
 * docs/contracts.md, "Delivery"), in the caller's transaction, so that it is queued exactly when the change it
 * announces is stored. A message already queued under its delivery id is left as it is. Returns whether it was
 * queued now (false: it was already).
 */
export async function enqueue(
  tx: Transaction<StateSchema>,
  message: { deliveryId: string; channel: OutboxChannel; target: string; payload: string; at: string },
): Promise<boolean> {
  const result = await tx
    .insertInto('outbox')
    .values({
      delivery_id: message.deliveryId,
      channel: message.channel,
      target: message.target,
      payload: message.payload,
      created_at: message.at,
      attempts: 0,
      next_attempt_at: message.at,
      delivered_at: null,
      last_error: null,
      receipt: null,
    })
    .onConflict((oc) => oc.column('delivery_id').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}
