import { randomUUID } from 'node:crypto';
import type { StateStore } from './state-store';

/** One change: who (an API key id with its role, or `cli` for the command line), did what, to what. */
export interface AuditEntry {
  actor: string;
  role: string;
  /** e.g. device.create, device.secret.issue, device.secret.delete, apikey.create, apikey.revoke, alert.ack */
  action: string;
  target: string;
  /** What else matters (never a secret). */
  detail?: Record<string, unknown>;
}

export interface AuditRecord extends Required<AuditEntry> {
  at: string;
}

/** The audit log in the state store: appended to, read by admins, never changed. */
export class AuditLog {
  constructor(private readonly state: StateStore) {}

  async record(entry: AuditEntry, at = new Date().toISOString()): Promise<void> {
    await this.state.db
      .insertInto('audit_log')
      .values({
        id: randomUUID(),
        at,
        actor: entry.actor,
        role: entry.role,
        action: entry.action,
        target: entry.target,
        detail: JSON.stringify(entry.detail ?? {}),
      })
      .execute();
  }

  /** The newest `limit` entries, newest first. */
  async latest(limit: number): Promise<AuditRecord[]> {
    const rows = await this.state.db
      .selectFrom('audit_log')
      .selectAll()
      .orderBy('at', 'desc')
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      at: r.at,
      actor: r.actor,
      role: r.role,
      action: r.action,
      target: r.target,
      detail: JSON.parse(r.detail) as Record<string, unknown>,
    }));
  }
}
