import { PeakWatchError } from '@peakwatch/contracts';
import { createHash } from 'node:crypto';
import { verifySecret } from './secret-hash';

/** A verification refused without running it: too many failures from the address or for the identity. */
export class AuthThrottledError extends PeakWatchError {
  readonly code = 'auth_throttled';
  constructor(readonly retryAfterSeconds: number) {
    super(`too many failed authentications: try again in ${retryAfterSeconds} s`);
  }
}

/** How much authentication a process does for unknown callers (docs/security.md, "Abuse that must not starve ingest"). */
export interface VerifierLimits {
  /** Failed verifications an address may cause at once, then per minute. */
  failuresPerAddress: number;
  /** The same per identity (a device id, an API key id). */
  failuresPerIdentity: number;
  /**
   * Verifications running at once: a hash of the earlier scheme (scrypt, secret-hash.ts) runs on libuv's thread pool,
   * whose other threads stay free for the spool's file work.
   */
  concurrent: number;
  /** Verifications waiting for a turn; beyond it they are refused as throttled. */
  waiting: number;
}

export const DEFAULT_VERIFIER_LIMITS: VerifierLimits = {
  failuresPerAddress: 20,
  failuresPerIdentity: 10,
  concurrent: 2,
  waiting: 64,
};

/** Failure budgets not drained for this long are forgotten once the table grows past MAX_BUDGETS. */
const MAX_BUDGETS = 10_000;
const MINUTE = 60_000;

/**
 * Verifies secrets against their stored hashes (secret-hash.ts) for the MQTT and API credentials, cheaply for callers that have
 * succeeded before and boundedly for the rest:
 * - a secret verified once is remembered as a digest of (hash, secret), so a device that reconnects (or 1,000 that
 *   connect at once) is not verified again; a new hash (rotation) or `forget` clears it;
 * - failures are counted per address and per identity (token buckets refilled per minute): over either budget, a
 *   verification is refused without running it (AuthThrottledError);
 * - at most `concurrent` verifications run at once, `waiting` more in line.
 */
export class SecretVerifier {
  private readonly verified = new Map<string, string>();
  private readonly budgets = new Map<string, { tokens: number; atMs: number }>();
  private running = 0;
  private readonly queue: (() => void)[] = [];

  constructor(
    private readonly limits: VerifierLimits = DEFAULT_VERIFIER_LIMITS,
    private readonly now: () => number = Date.now,
    private readonly verify: (secret: string, hash: string) => Promise<boolean> = verifySecret,
  ) {}

  /** Whether `secret` matches `hash` for `identity`, asked from `address`; throws AuthThrottledError. */
  async check({
    identity,
    secret,
    hash,
    address,
  }: {
    identity: string;
    secret: string;
    hash: string;
    address: string;
  }): Promise<boolean> {
    const digest = createHash('sha256').update(hash).update('\0').update(secret).digest('hex');
    if (this.verified.get(identity) === digest) return true;
    const keys = [`address\0${address}`, `identity\0${identity}`];
    const capacities = [this.limits.failuresPerAddress, this.limits.failuresPerIdentity];
    if (
      keys.some((key, i) => this.tokens(key, capacities[i]!) < 1) ||
      this.queue.length >= this.limits.waiting
    )
      throw new AuthThrottledError(Math.ceil(MINUTE / Math.min(...capacities) / 1000));
    await this.turn();
    let ok: boolean;
    try {
      ok = await this.verify(secret, hash);
    } finally {
      this.release();
    }
    if (ok) this.verified.set(identity, digest);
    else keys.forEach((key, i) => this.spend(key, capacities[i]!));
    return ok;
  }

  forget(identity: string): void {
    this.verified.delete(identity);
  }

  private tokens(key: string, capacity: number): number {
    const budget = this.budgets.get(key);
    if (!budget) return capacity;
    const now = this.now();
    budget.tokens = Math.min(capacity, budget.tokens + ((now - budget.atMs) * capacity) / MINUTE);
    budget.atMs = now;
    return budget.tokens;
  }

  private spend(key: string, capacity: number): void {
    const tokens = this.tokens(key, capacity);
    this.budgets.set(key, { tokens: tokens - 1, atMs: this.now() });
    if (this.budgets.size > MAX_BUDGETS)
      for (const [k, b] of this.budgets) if (this.now() - b.atMs > MINUTE) this.budgets.delete(k);
  }

  private turn(): Promise<void> {
    if (this.running < this.limits.concurrent) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.queue.push(resolve));
  }

  private release(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.running--;
  }
}
