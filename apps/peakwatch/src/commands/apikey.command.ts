import { API_ROLES, ApiKeysRepository, type ApiRole } from '@peakwatch/api';
import { ID_CHARS, isValidId, type Language } from '@peakwatch/contracts';
import { UsageError } from '@peakwatch/runtime';
import { cliText } from '../cli-language';
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
export async function apikeyCreateCommand(
  flags: {
    role: string;
    scope?: string;
    name?: string;
  },
  language: Language = 'en',
): Promise<void> {
  const t = cliText(language);
  if (!(API_ROLES as readonly string[]).includes(flags.role))
    throw new UsageError(
      t('apikey.badRole', { value: JSON.stringify(flags.role), roles: API_ROLES.join(t('list.names')) }),
    );
  const role = flags.role as ApiRole;
  const scope = flags.scope ? flags.scope.split(',') : [];
  const bad = scope.find((id) => !isValidId(id));
  if (bad !== undefined)
    throw new UsageError(t('apikey.badScope', { value: JSON.stringify(bad), chars: ID_CHARS }));
  if (role === 'admin' ? scope.length > 0 : scope.length === 0)
    throw new UsageError(role === 'admin' ? t('apikey.adminScope') : t('apikey.needsScope', { role }));
  if (role !== 'facility_manager' && scope.length > 1) throw new UsageError(t('apikey.oneScope', { role }));
  const name = flags.name ?? `${role} ${scope.join(',')}`.trim();
  const { id, key } = await withKeys(
    (keys) => keys.create({ name, role, scope }),
    (created) => ({ action: 'apikey.create', target: created.id, detail: { name, role, scope } }),
  );
  const created = scope.length
    ? t('apikey.createdScoped', { id, role, scope: scope.join(t('list.names')) })
    : t('apikey.created', { id, role });
  process.stdout.write(`${created}\n${key}\n`);
}

/** `peakwatch apikey revoke <id>`: revokes a key at once. */
export async function apikeyRevokeCommand(id: string, language: Language = 'en'): Promise<void> {
  const t = cliText(language);
  const revoked = await withKeys(
    (keys) => keys.revoke(id),
    (done) => (done ? { action: 'apikey.revoke', target: id } : undefined),
  );
  if (!revoked) throw new Error(t('apikey.noKey', { id }));
  process.stdout.write(`${t('apikey.revoked', { id })}\n`);
}
