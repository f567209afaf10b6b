import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { StateSchema } from './state.schema';

/** One line of an alert's append-only history (audit trail): a state entered, an acknowledgement, an escalation. */
export async function recordAlertHistory(
  db: Kysely<StateSchema>,
  entry: {
    ruleId: string;
    entity: string;
    siteId: string;
    at: string;
    event: string;
    episode: number;
    detail?: Record<string, unknown>;
  },
): Promise<void> {
  await db
    .insertInto('alert_history')
    .values({
      id: randomUUID(),
      rule_id: entry.ruleId,
      entity: entry.entity,
      site_id: entry.siteId,
      at: entry.at,
      event: entry.event,
      episode: entry.episode,
      detail: JSON.stringify(entry.detail ?? {}),
    })
    .execute();
}
