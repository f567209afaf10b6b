import { Injectable } from '@nestjs/common';
import { SecretVerifier, StateStore, hashSecret, newSecret } from '@peakwatch/state';

export type MqttRole = 'device' | 'service';

/** A secret was asked for a username that belongs to the other role. */
export class CredentialRoleError extends Error {
  readonly code = 'username_taken';
}

export interface MqttIdentity {
  username: string;
  role: MqttRole;
  siteId: string | null;
}

/**
 * MQTT credentials in the state store, hashed with scrypt, verified by a SecretVerifier: a secret verified once is not
 * paid for again (rotating clears it), and failures are throttled per address and per username.
 */
@Injectable()
export class CredentialsRepository {
  private readonly verifier = new SecretVerifier();

  constructor(private readonly state: StateStore) {}

  /** Issues a new secret for a device or service client (replacing any earlier one) and returns it, once. */
  async issue(username: string, role: MqttRole, siteId: string | null): Promise<string> {
    await this.assertAvailable(username, role);
    const secret = newSecret();
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
    const existing = await this.state.db
      .selectFrom('mqtt_credential')
      .select('role')
      .where('username', '=', username)
      .executeTakeFirst();
    if (existing && existing.role !== role)
      throw new CredentialRoleError(`${username} is the username of a ${existing.role}, not of a ${role}`);
  }

  /**
   * The identity behind a username and secret, asked from `address`, or undefined when they do not match; throws
   * AuthThrottledError after too many failures from the address or for the username (SecretVerifier).
   */
  async verify(username: string, secret: string, address = ''): Promise<MqttIdentity | undefined> {
    const row = await this.state.db
      .selectFrom('mqtt_credential')
      .select(['username', 'role', 'site_id', 'secret_hash'])
      .where('username', '=', username)
      .executeTakeFirst();
    if (!row) return undefined;
    if (!(await this.verifier.check({ identity: username, secret, hash: row.secret_hash, address })))
      return undefined;
    return { username: row.username, role: row.role as MqttRole, siteId: row.site_id };
  }
}
