import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Constant-time equality of two secrets of any length. `timingSafeEqual` needs equal lengths and would
 * throw (or, checked first, leak the length); comparing SHA-256 digests hides both content and length.
 */
export function safeEqual(a: string | Buffer, b: string | Buffer): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

/**
 * Constant-time equality where the expected length is public (a digest's or a MAC's, fixed by its algorithm):
 * a length mismatch is false at once, and only the bytes are compared in constant time.
 */
export function equalOfPublicLength(given: Buffer, expected: Buffer): boolean {
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function sha256(data: string | Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

/** HMAC-SHA256 of `data` under `key`. */
export function hmac(key: string | Buffer, data: string | Buffer): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** A secret of `bytes` random bytes (per process, when the operator gave none). */
export function randomSecret(bytes = 32): Buffer {
  return randomBytes(bytes);
}
