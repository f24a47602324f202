/**
 * The gateway's own `Sec-WebSocket-Key` for the upstream hop. The upstream's 101 can only carry the right
 * accept value (`acceptKey()` of `@wsgate/handshake`) if a real WebSocket server computed it for that fresh
 * key — an endpoint that merely echoes a status or headers (request smuggling through a proxy that checks only
 * the status) cannot. The client then gets the accept value for its own key.
 */
import { randomFillSync } from 'node:crypto';

const VALID_KEY = /^[A-Za-z0-9+/]{21}[AQgw]==$/;

/**
 * Is `key` the base64 of exactly 16 bytes (RFC 6455 §4.1)? The same test as `@wsgate/handshake`'s validation,
 * which exports only the full check of a request.
 */
export function isValidKey(key: string | undefined): key is string {
  return key !== undefined && VALID_KEY.test(key);
}

// Random bytes for 256 keys at a time: one system call instead of one per handshake.
const pool = Buffer.allocUnsafe(16 * 256);
let offset = pool.length;

/** A fresh random key. */
export function newKey(): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  offset += 16;
  return pool.toString('base64', offset - 16, offset);
}
