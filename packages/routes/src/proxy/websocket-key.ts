/**
 * `Sec-WebSocket-Key` and `-Accept` on both hops of a proxied handshake. The gateway sends the upstream a
 * key of its own: an upstream's 101 can only carry the right accept value if a real WebSocket server
 * computed it for that fresh key — an endpoint that merely echoes a status or headers (request smuggling
 * through a proxy that checks only the status) cannot. The client then gets the accept value for its key.
 */
import { hash, randomFillSync } from 'node:crypto';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const VALID_KEY = /^[A-Za-z0-9+/]{21}[AQgw]==$/;

/** RFC 6455 §4.2.2 (the handshake package has the same; routes does not depend on it). */
export function acceptFor(key: string): string {
  return hash('sha1', key + GUID, 'base64');
}

/** Is `key` the base64 of exactly 16 bytes (RFC 6455 §4.1)? */
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
