import type { AuditEntry } from '@peakwatch/state';
import type { Principal } from './api-keys.repository';

/** The actor of an audit entry made through the API: the caller's key id and role. */
export function by(caller: Principal): Pick<AuditEntry, 'actor' | 'role'> {
  return { actor: caller.keyId, role: caller.role };
}
