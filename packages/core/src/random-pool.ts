import { randomFillSync } from 'node:crypto';

/**
 * Random bytes for values made on hot paths (SIP tags, digest nonces): the same CSPRNG as `randomBytes()`,
 * drawn 4 KiB at a time. One `randomFillSync` per small value cost 3-4 % of a SIP registrar's CPU; a pool
 * spreads one call over hundreds of values. Never reused: each byte is handed out once.
 */
const SIZE = 4096;
const pool = Buffer.allocUnsafe(SIZE);
let used = SIZE;

function take(length: number): number {
  if (length > SIZE) throw new RangeError(`randomPool: at most ${SIZE} bytes at a time`);
  if (used + length > SIZE) {
    randomFillSync(pool);
    used = 0;
  }
  const at = used;
  used += length;
  return at;
}

/** Copies `length` fresh random bytes into `target` at `offset`. */
export function randomInto(target: Buffer, offset: number, length: number): void {
  const at = take(length);
  pool.copy(target, offset, at, at + length);
}

/** `bytes` fresh random bytes as lower-case hex. */
export function randomHex(bytes: number): string {
  const at = take(bytes);
  return pool.toString('hex', at, at + bytes);
}
