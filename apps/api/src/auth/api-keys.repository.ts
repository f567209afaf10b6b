import { Subject, type Observable } from 'rxjs';
import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { SecretVerifier, StateStore, hashSecret, newSecret } from '@peakwatch/state';

export const API_ROLES = ['admin', 'facility_manager', 'emitter', 'regulator'] as const;
export type ApiRole = (typeof API_ROLES)[number];

/** Who calls: the key's role and scope (sites of a facility manager, the organisation of an emitter, a district). */
export interface Principal {
  keyId: string;
  role: ApiRole;
  /** Site ids (facility_manager), one organisation id (emitter) or one district id (regulator); none for admin. */
  scope: string[];
}

export interface ApiKeyInfo {
  id: string;
  name: string;
  role: ApiRole;
  scope: string[];
  createdAt: string;
  revokedAt: string | null;
}

const KEY = /^pwk_([0-9a-f]{16})\.([\w-]{43})$/;

/**
 * API keys in the state store: `pwk_<id>.<secret>`, the secret hashed (secret-hash.ts). Every request reads the key's row
 * (so a revocation takes effect at once, in every process sharing the store); secrets are checked by a SecretVerifier
 * (verified once per key and process, failures throttled per address and per key).
 */
@Injectable()
export class ApiKeysRepository {
  private readonly verifier = new SecretVerifier();
  private readonly revokedHere = new Subject<string>();

  constructor(private readonly state: StateStore) {}

  /** Ids of the keys revoked by this process, as they are revoked (another process's revocations: `isActive`). */
  get revocations(): Observable<string> {
    return this.revokedHere.asObservable();
  }

  /** Whether a key exists and is not revoked (read from the store: any process may have revoked it). */
  async isActive(id: string): Promise<boolean> {
    const row = await this.state.db
      .selectFrom('api_key')
      .select('revoked_at')
      .where('id', '=', id)
      .executeTakeFirst();
    return row !== undefined && row.revoked_at === null;
  }

  /** Creates a key and returns it, once; only its hash is kept. */
  async create({
    name,
    role,
    scope,
  }: {
    name: string;
    role: ApiRole;
    scope: string[];
  }): Promise<{ id: string; key: string }> {
    const id = randomBytes(8).toString('hex');
    const secret = newSecret();
    await this.state.db
      .insertInto('api_key')
      .values({
        id,
        name,
        role,
        scope: scope.join(','),
        secret_hash: await hashSecret(secret),
        created_at: new Date().toISOString(),
        revoked_at: null,
      })
      .execute();
    return { id, key: `pwk_${id}.${secret}` };
  }

  /** Revokes a key; false when there is no such key. */
  async revoke(id: string): Promise<boolean> {
    const result = await this.state.db
      .updateTable('api_key')
      .set({ revoked_at: new Date().toISOString() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    this.verifier.forget(id);
    const revoked = Number(result.numUpdatedRows) > 0;
    if (revoked) this.revokedHere.next(id);
    return revoked;
  }

  async list(): Promise<ApiKeyInfo[]> {
    const rows = await this.state.db.selectFrom('api_key').selectAll().orderBy('created_at').execute();
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      role: r.role as ApiRole,
      scope: r.scope ? r.scope.split(',') : [],
      createdAt: r.created_at,
      revokedAt: r.revoked_at,
    }));
  }

  /**
   * The principal of a key presented from `address`, or undefined when it is malformed, unknown, wrong or revoked;
   * throws AuthThrottledError after too many failures from the address or for the key (SecretVerifier).
   */
  async verify(key: string, address = ''): Promise<Principal | undefined> {
    const match = KEY.exec(key);
    if (!match) return undefined;
    const [, id, secret] = match as unknown as [string, string, string];
    const row = await this.state.db
      .selectFrom('api_key')
      .select(['id', 'role', 'scope', 'secret_hash', 'revoked_at'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row || row.revoked_at !== null) return undefined;
    if (!(await this.verifier.check({ identity: id, secret, hash: row.secret_hash, address })))
      return undefined;
    return { keyId: id, role: row.role as ApiRole, scope: row.scope ? row.scope.split(',') : [] };
  }
}
