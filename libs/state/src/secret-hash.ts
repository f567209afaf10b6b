import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** Bytes of randomness in a new secret (printed as base64url, 43 characters). */
export const SECRET_BYTES = 32;
const SECRET = /^[\w-]{43}$/;
/** A stored hash of either scheme, whole: anything else verifies nothing. */
const STORED =
  /^(?:sha256\$([\w-]{22})\$([\w-]{43})|scrypt\$(\d{1,7})\$(\d{1,3})\$(\d{1,3})\$([\w-]{22})\$([\w-]{43}))$/;
const SALT_BYTES = 16;

/**
 * Stored hashes of the secrets PeakWatch issues (device and service MQTT secrets, API keys): `sha256$salt$hash`,
 * SHA-256 of the salt and the secret (docs/security.md, "Secrets at rest"). Every such secret is 256 random bits made
 * by `newSecret`, so a fast hash keeps it as safe at rest as a slow one would (nobody can try 2^256 candidates), and
 * a reconnect storm of 20,000 devices is verified in milliseconds instead of minutes. A slow, memory-hard hash is for
 * secrets a person chooses; `hashSecret` refuses anything not shaped as an issued secret, and its callers pass only
 * what `newSecret` made. Hashes of the earlier scheme, `scrypt$N$r$p$salt$hash` (RFC 7914), still verify until their
 * secret is rotated.
 */
function sha256(salt: Buffer, secret: string): Buffer {
  return createHash('sha256').update(salt).update(secret, 'utf8').digest();
}

/** A new random secret, base64url. */
export function newSecret(): string {
  return randomBytes(SECRET_BYTES).toString('base64url');
}

/** `sha256$salt$hash` (base64url) of a secret made by `newSecret`; throws for anything else. */
export function hashSecret(secret: string): Promise<string> {
  if (!SECRET.test(secret))
    return Promise.reject(new TypeError('hashSecret hashes only secrets made by newSecret'));
  const salt = randomBytes(SALT_BYTES);
  return Promise.resolve(
    ['sha256', salt.toString('base64url'), sha256(salt, secret).toString('base64url')].join('$'),
  );
}

/** Checks a secret against a stored hash (either scheme) in constant time; false for a malformed hash. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const match = STORED.exec(stored);
  if (!match) return false;
  const [, shaSalt, shaHash, n, r, p, scryptSalt, scryptHash] = match;
  let key: Buffer;
  try {
    key = shaSalt
      ? sha256(Buffer.from(shaSalt, 'base64url'), secret)
      : await scryptKey(secret, Buffer.from(scryptSalt!, 'base64url'), {
          N: Number(n),
          r: Number(r),
          p: Number(p),
        });
  } catch {
    return false; // scrypt parameters it refuses (N not a power of two, too much memory)
  }
  const expected = Buffer.from((shaHash ?? scryptHash)!, 'base64url');
  return key.length === expected.length && timingSafeEqual(key, expected);
}

function scryptKey(secret: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(secret, salt, 32, { ...options, maxmem: 64 * 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}
