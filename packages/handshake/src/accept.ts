import { hash } from 'node:crypto';

/** RFC 6455 §1.3: the GUID appended to the client's key before hashing. */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/**
 * The `Sec-WebSocket-Accept` value for a client's `Sec-WebSocket-Key` (RFC 6455 §4.2.2): base64 of the SHA-1
 * of the key followed by the RFC's GUID.
 *
 * @example acceptKey('dGhlIHNhbXBsZSBub25jZQ==') === 's3pPLMBiTxaQ9kYGzzhZRbK+xOo='
 */
export function acceptKey(key: string): string {
  // One-shot hash: it avoids the Hash object createHash() allocates on every handshake.
  return hash('sha1', key + WEBSOCKET_GUID, 'base64');
}

const VALID_KEY = /^[A-Za-z0-9+/]{21}[AQgw]==$/;
const B64_CHAR = /[^A-Za-z0-9+/]/;

/**
 * Why `key` is not the base64 of exactly 16 bytes (RFC 6455 §4.1), or undefined when it is.
 *
 * Strict on purpose: 22 alphabet characters, one of `AQgw` last (the 4 spare bits are zero, RFC 4648 §3.5),
 * then `==`. A lenient decoder would take 16 bytes out of garbage and the client would never notice its bug.
 */
export function keyProblem(key: string): string | undefined {
  if (VALID_KEY.test(key)) return undefined;
  if (key.length !== 24) return `got ${key.length} characters, expected 24`;
  const at = key.slice(0, 22).search(B64_CHAR);
  if (at !== -1) return `invalid character ${JSON.stringify(key[at])} at position ${at}`;
  const tail = key.slice(22);
  if (tail === '==') return 'non-zero padding bits';
  if (/^[A-Za-z0-9+/]=$/.test(tail)) return 'decodes to 17 bytes';
  if (/^[A-Za-z0-9+/]{2}$/.test(tail)) return 'decodes to 18 bytes';
  return `invalid padding ${JSON.stringify(tail)} at position 22`;
}
