import { API_ROLES, ApiKeysRepository, type ApiRole } from '@peakwatch/api';
import { ID_CHARS, isValidId } from '@peakwatch/contracts';
import { UsageError } from '@peakwatch/runtime';
import { auditFromCli, withStateStore } from './with-state';

/** Runs `work` on the API keys, and records what it did in the audit log. */
function withKeys<T>(
  work: (keys: ApiKeysRepository) => Promise<T>,
  audit: (result: T) => { action: string; target: string; detail?: Record<string, unknown> } | undefined,
): Promise<T> {
  return withStateStore(async (store) => {
    const result = await work(new ApiKeysRepository(store));
    const entry = audit(result);
    if (entry) await auditFromCli(store, entry);
    return result;
  });
}

/**
 * `peakwatch apikey create --role <role> [--scope <id>[,<id>...]] [--name <name>]`: creates an API key and prints it
 * once, alone on the last line of standard output (README, "Command line"). The scope is the sites of a facility manager, the
 * organisation of an emitter, the district of a regulator; an admin has none.
 */
export async function apikeyCreateCommand(flags: {
  role: string;
  scope?: string;
  name?: string;
}): Promise<void> {
  if (!(API_ROLES as readonly string[]).includes(flags.role))
    throw new UsageError(`--role ${JSON.stringify(flags.role)}: expected one of ${API_ROLES.join(', ')}`);
  const role = flags.role as ApiRole;
  const scope = flags.scope ? flags.scope.split(',') : [];
  const bad = scope.find((id) => !isValidId(id));
  if (bad !== undefined) throw new UsageError(`--scope ${JSON.stringify(bad)}: expected ${ID_CHARS}`);
  if (role === 'admin' ? scope.length > 0 : scope.length === 0)
    throw new UsageError(role === 'admin' ? 'an admin key has no --scope' : `a ${role} key needs --scope`);
  if (role !== 'facility_manager' && scope.length > 1)
    throw new UsageError(`a ${role} key has one --scope (an organisation or a district)`);
  const name = flags.name ?? `${role} ${scope.join(',')}`.trim();
  const { id, key } = await withKeys(
    (keys) => keys.create({ name, role, scope }),
    (created) => ({ action: 'apikey.create', target: created.id, detail: { name, role, scope } }),
  );
  process.stdout.write(
    `API key ${id} (${role}${scope.length ? ` of ${scope.join(', ')}` : ''}); shown once:\n${key}\n`,
  );
}

/** `peakwatch apikey revoke <id>`: revokes a key at once. */
export async function apikeyRevokeCommand(id: string): Promise<void> {
  const revoked = await withKeys(
    (keys) => keys.revoke(id),
    (done) => (done ? { action: 'apikey.revoke', target: id } : undefined),
  );
  if (!revoked) throw new Error(`no active API key ${id}`);
  process.stdout.write(`API key ${id} revoked\n`);
}
