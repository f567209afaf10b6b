import { createHash, randomBytes, scryptSync } from 'node:crypto';
import { hashSecret, newSecret, verifySecret } from './secret-hash';

describe('secret hashing', () => {
  it('verifies the secret it hashed, and nothing else', async () => {
    const secret = newSecret();
    const stored = await hashSecret(secret);
    expect(stored).toMatch(/^sha256\$[\w-]{22}\$[\w-]{43}$/);
    expect(stored).not.toContain(secret);
    await expect(verifySecret(secret, stored)).resolves.toBe(true);
    await expect(verifySecret(`${secret}x`, stored)).resolves.toBe(false);
    await expect(verifySecret(secret, 'plain-text')).resolves.toBe(false);
    await expect(verifySecret(secret, `${stored}$extra`)).resolves.toBe(false);
  });

  it.each([
    ['no salt (plain SHA-256)', (hash: string) => `sha256$$${hash}`],
    ['characters outside base64url', (hash: string) => `sha256$!!!!!!!!!!!!!!!!!!!!!!$${hash}`],
    ['scrypt parameters scrypt refuses', (hash: string) => `scrypt$abc$8$1$AAAAAAAAAAAAAAAAAAAAAA$${hash}`],
    ['an N that is not a power of two', (hash: string) => `scrypt$1000$8$1$AAAAAAAAAAAAAAAAAAAAAA$${hash}`],
  ])('verifies nothing against a malformed hash: %s', async (_, malformed) => {
    const secret = newSecret();
    const hash = (await hashSecret(secret)).split('$')[2]!;
    await expect(verifySecret(secret, malformed(hash))).resolves.toBe(false);
  });

  it('is SHA-256 of the salt and the secret, so that anyone can check a stored hash by hand', async () => {
    const secret = newSecret();
    const [, salt, hash] = (await hashSecret(secret)).split('$') as [string, string, string];
    const expected = createHash('sha256')
      .update(Buffer.concat([Buffer.from(salt, 'base64url'), Buffer.from(secret)]))
      .digest('base64url');
    expect(hash).toBe(expected);
  });

  it('still verifies hashes of the earlier scheme (scrypt), until their secret is rotated', async () => {
    const secret = newSecret();
    const salt = randomBytes(16);
    const key = scryptSync(secret, salt, 32, { N: 16_384, r: 8, p: 1 });
    const stored = ['scrypt', 16_384, 8, 1, salt.toString('base64url'), key.toString('base64url')].join('$');
    await expect(verifySecret(secret, stored)).resolves.toBe(true);
    await expect(verifySecret(newSecret(), stored)).resolves.toBe(false);
  });

  it('hashes only secrets it issued (256 random bits), never a password a person chose', async () => {
    await expect(hashSecret('same')).rejects.toThrow('only secrets made by newSecret');
    await expect(hashSecret(`${newSecret()}!`)).rejects.toThrow('only secrets made by newSecret');
  });

  it('salts: the same secret hashes differently each time', async () => {
    const secret = newSecret();
    expect(await hashSecret(secret)).not.toBe(await hashSecret(secret));
  });

  it('makes 256-bit secrets', () => {
    expect(Buffer.from(newSecret(), 'base64url')).toHaveLength(32);
  });
});
