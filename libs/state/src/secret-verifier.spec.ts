import { hashSecret, newSecret, verifySecret } from './secret-hash';
import { AuthThrottledError, SecretVerifier } from './secret-verifier';

describe('SecretVerifier', () => {
  const RIGHT = newSecret();
  let hash: string;
  beforeAll(async () => {
    hash = await hashSecret(RIGHT);
  });

  /** A verifier on a clock the test moves, counting the hash verifications it runs. */
  const setUp = (limits = { failuresPerAddress: 3, failuresPerIdentity: 5, concurrent: 2, waiting: 64 }) => {
    let nowMs = 0;
    const runs = { count: 0 };
    const verifier = new SecretVerifier(
      limits,
      () => nowMs,
      (secret, stored) => {
        runs.count++;
        return verifySecret(secret, stored);
      },
    );
    return { verifier, runs, advance: (ms: number) => (nowMs += ms) };
  };

  it('refuses an address over its failures without verifying, and lets it try again as the minute refills', async () => {
    const { verifier, runs, advance } = setUp();
    const attempt = (identity: string) =>
      verifier.check({ identity, secret: 'wrong', hash, address: '203.0.113.9' });
    for (const id of ['d1', 'd2', 'd3']) expect(await attempt(id)).toBe(false);
    await expect(attempt('d4')).rejects.toBeInstanceOf(AuthThrottledError);
    await expect(attempt('d5')).rejects.toBeInstanceOf(AuthThrottledError);
    expect(runs.count).toBe(3);
    advance(20_000); // a third of a minute: one failure's worth (3 a minute)
    expect(await attempt('d6')).toBe(false);
    expect(runs.count).toBe(4);
  });

  it('refuses an identity over its failures from any address, but not the caller it already knows', async () => {
    const { verifier, runs } = setUp({
      failuresPerAddress: 100,
      failuresPerIdentity: 2,
      concurrent: 2,
      waiting: 64,
    });
    // the device authenticated once: its secret is remembered
    expect(await verifier.check({ identity: 'd1', secret: RIGHT, hash, address: '10.0.0.1' })).toBe(true);
    for (const address of ['198.51.100.1', '198.51.100.2'])
      expect(await verifier.check({ identity: 'd1', secret: 'guess', hash, address })).toBe(false);
    await expect(
      verifier.check({ identity: 'd1', secret: 'guess', hash, address: '198.51.100.3' }),
    ).rejects.toBeInstanceOf(AuthThrottledError);
    // the device itself still gets in, without verifying again
    const before = runs.count;
    expect(await verifier.check({ identity: 'd1', secret: RIGHT, hash, address: '10.0.0.1' })).toBe(true);
    expect(runs.count).toBe(before);
  });

  it('runs at most `concurrent` verifications at once', async () => {
    let running = 0;
    let most = 0;
    const verifier = new SecretVerifier(
      { failuresPerAddress: 100, failuresPerIdentity: 100, concurrent: 2, waiting: 64 },
      Date.now,
      async (secret, stored) => {
        most = Math.max(most, ++running);
        try {
          return await verifySecret(secret, stored);
        } finally {
          running--;
        }
      },
    );
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        verifier.check({ identity: `d${i}`, secret: 'x', hash, address: `a${i}` }),
      ),
    );
    expect(most).toBe(2);
  });
});
