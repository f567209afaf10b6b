import { createHash } from 'node:crypto';
import {
  PeakWatchError,
  SERVICE_GRANT,
  deviceGrant,
  drOperatorGrant,
  type MqttRole,
  type TopicGrant,
} from '@peakwatch/contracts';
import type { BrokerAccounts } from '@peakwatch/mqtt';
import type { Registry } from '@peakwatch/registry';
import { hashSecret, newSecret } from './secret-hash';
import { SecretVerifier } from './secret-verifier';
import type { StateStore } from './state-store';

export type { MqttRole };

/** A secret was asked for a username that belongs to the other role. */
export class CredentialRoleError extends PeakWatchError {
  readonly code = 'username_taken';
}

export interface MqttIdentity {
  username: string;
  role: MqttRole;
  /** A device's site; a grid operator's district (stored in the same column); none for a service. */
  siteId: string | null;
  /** Which issued secret it holds (a digest of its hash): a connection outlives neither its rotation nor its deletion. */
  secretVersion: string;
}

/**
 * The topics `identity` may use (docs/security.md, "Identities"): a device's follow its registry entry, and it has
 * none once it has left the registry.
 */
export function grantOf(identity: MqttIdentity, registry: Registry): TopicGrant | undefined {
  if (identity.role === 'service') return SERVICE_GRANT;
  if (identity.role === 'dr_operator')
    return identity.siteId === null ? undefined : drOperatorGrant(identity.siteId);
  const registered = registry.device(identity.username);
  return registered && deviceGrant(registered.site.id, registered.device.id);
}

/**
 * MQTT credentials in the state store, hashed (secret-hash.ts), verified by a SecretVerifier: a secret verified once is not
 * paid for again (rotating clears it), and failures are throttled per address and per username. With `accounts`
 * (an external broker), every secret issued or deleted is issued or deleted there too, before it is shown.
 */
export class CredentialsRepository {
  private readonly verifier = new SecretVerifier();

  constructor(
    private readonly state: StateStore,
    private readonly accounts?: BrokerAccounts,
  ) {}

  /** Closes the external broker's accounts, if any (Nest calls it at shutdown). */
  async onApplicationShutdown(): Promise<void> {
    await this.accounts?.close();
  }

  /**
   * Issues a new secret for a device or service client (replacing any earlier one) and returns it, once. On an
   * external broker it is set there first: a secret that could not be set there is not issued
   * (BrokerProvisioningError), and the old one keeps working.
   */
  async issue(username: string, role: MqttRole, siteId: string | null): Promise<string> {
    await this.assertAvailable(username, role);
    const secret = newSecret();
    await this.accounts?.put({ username, role, scope: role === 'service' ? null : siteId }, secret);
    const now = new Date().toISOString();
    const secretHash = await hashSecret(secret);
    await this.state.db
      .insertInto('mqtt_credential')
      .values({ username, role, site_id: siteId, secret_hash: secretHash, created_at: now, rotated_at: now })
      .onConflict((oc) =>
        oc
          .column('username')
          .doUpdateSet({ role, site_id: siteId, secret_hash: secretHash, rotated_at: now }),
      )
      .execute();
    this.verifier.forget(username);
    return secret;
  }

  /** Deletes the credential of `username` in `role`; false when it has none. Its secret stops working at once. */
  async delete(username: string, role: MqttRole): Promise<boolean> {
    const existing = await this.roleOf(username);
    if (existing !== undefined && existing !== role) return false;
    await this.accounts?.remove(username); // first: a failure there leaves the credential, so that it can be retried
    const result = await this.state.db
      .deleteFrom('mqtt_credential')
      .where('username', '=', username)
      .where('role', '=', role)
      .executeTakeFirst();
    this.verifier.forget(username);
    return Number(result.numDeletedRows) > 0;
  }

  /**
   * Throws {@link CredentialRoleError} when `username` belongs to the other role: a username keeps its role, so a
   * device may not take over a service client's name (and with it its rights), nor a service a device's.
   */
  async assertAvailable(username: string, role: MqttRole): Promise<void> {
    const existing = await this.roleOf(username);
    if (existing !== undefined && existing !== role)
      throw new CredentialRoleError(`${username} is the username of a ${existing}, not of a ${role}`);
  }

  private async roleOf(username: string): Promise<MqttRole | undefined> {
    return (await this.row(username))?.role as MqttRole | undefined;
  }

  /** The identity holding `username`, without checking a secret (an external broker asking what a client may do). */
  async identity(username: string): Promise<MqttIdentity | undefined> {
    const row = await this.row(username);
    return row && identityOf(row);
  }

  /**
   * The identity behind a username and secret, asked from `address`, or undefined when they do not match; throws
   * AuthThrottledError after too many failures from the address or for the username (SecretVerifier).
   */
  async verify(username: string, secret: string, address = ''): Promise<MqttIdentity | undefined> {
    const row = await this.row(username);
    if (!row) return undefined;
    if (!(await this.verifier.check({ identity: username, secret, hash: row.secret_hash, address })))
      return undefined;
    return identityOf(row);
  }

  /** The secret version (MqttIdentity) of each of `usernames` that has a secret. */
  async secretVersions(usernames: string[]): Promise<Map<string, string>> {
    const versions = new Map<string, string>();
    for (let i = 0; i < usernames.length; i += 500) {
      const rows = await this.state.db
        .selectFrom('mqtt_credential')
        .select(['username', 'secret_hash'])
        .where('username', 'in', usernames.slice(i, i + 500))
        .execute();
      for (const row of rows) versions.set(row.username, secretVersion(row.secret_hash));
    }
    return versions;
  }

  private row(username: string) {
    return this.state.db
      .selectFrom('mqtt_credential')
      .select(['username', 'role', 'site_id', 'secret_hash'])
      .where('username', '=', username)
      .executeTakeFirst();
  }
}

function identityOf(row: {
  username: string;
  role: string;
  site_id: string | null;
  secret_hash: string;
}): MqttIdentity {
  return {
    username: row.username,
    role: row.role as MqttRole,
    siteId: row.site_id,
    secretVersion: secretVersion(row.secret_hash),
  };
}

/** A short digest of a secret's hash: tells one issued secret from the next without keeping the hash around. */
function secretVersion(secretHash: string): string {
  return createHash('sha256').update(secretHash).digest('base64url').slice(0, 16);
}
