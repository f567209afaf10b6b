import { hashSecret, newSecret, verifySecret } from './secret-hash';

describe('secret hashing (scrypt)', () => {
  it('verifies the secret it hashed, and nothing else', async () => {
    const secret = newSecret();
    const stored = await hashSecret(secret);
    expect(stored).toMatch(/^scrypt\$16384\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    expect(stored).not.toContain(secret);
    await expect(verifySecret(secret, stored)).resolves.toBe(true);
    await expect(verifySecret(`${secret}x`, stored)).resolves.toBe(false);
    await expect(verifySecret(secret, 'plain-text')).resolves.toBe(false);
  });

  it('salts: the same secret hashes differently each time', async () => {
    expect(await hashSecret('same')).not.toBe(await hashSecret('same'));
  });

  it('makes 256-bit secrets', () => {
    expect(Buffer.from(newSecret(), 'base64url')).toHaveLength(32);
  });
});
