import type { Duplex } from 'node:stream';
import { isFieldValue } from './token-list.js';

/** The longest a socket that is only being closed may live when its peer does not read the response. */
export const REJECTION_TIMEOUT_MS = 5_000;

const kAnswered = Symbol('wsgate.answered');

/**
 * Response header fields by name. An array repeats the field, one line per value, in order: some fields
 * cannot be joined into one line (two `WWW-Authenticate` challenges, `Set-Cookie`).
 */
export type RawResponseHeaders = Readonly<Record<string, string | readonly string[]>>;


/**
 * A complete HTTP/1.1 response that closes the connection: status line, `Connection: close`, the given
 * headers in order (an array as one line per value), then `Content-Length` (in bytes) and the body.
 * @throws {TypeError} naming the header when a value holds CR, LF or another control character: written
 *   as is, it would end the header early and let the rest be read as other headers (response splitting).
 */
export function formatRawResponse(
  status: number,
  statusText: string,
  headers: RawResponseHeaders,
  body: string | Buffer,
): string | Buffer {
  let head = `HTTP/1.1 ${status} ${statusText}\r\nConnection: close\r\n`;
  for (const name in headers) {
    const value = headers[name]!;
    if (typeof value === 'string') head += headerLine(name, value);
    else for (const one of value) head += headerLine(name, one);
  }
  head += `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
  return typeof body === 'string' ? head + body : Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

function headerLine(name: string, value: string): string {
  if (!isFieldValue(value)) throw new TypeError(`response header ${name}: the value holds CR, LF or another control character`);
  return `${name}: ${value}\r\n`;
}

/**
 * Writes a response on a raw socket (one node's HTTP server handed over, as for upgrade requests) and closes
 * the socket: the one place that does so, for handshake refusals and gateway replies alike.
 *
 * The socket is destroyed once the response is flushed; at once if it is no longer writable or errors; and
 * after {@link REJECTION_TIMEOUT_MS} at most if the peer never reads, so no client can hold it open. Never
 * throws (a header value {@link formatRawResponse} refuses gets the socket destroyed, with no answer); a
 * second call on the same socket does nothing.
 */
export function writeRawResponse(
  socket: Duplex,
  status: number,
  statusText: string,
  headers: RawResponseHeaders,
  body: string | Buffer,
): void {
  const s = socket as Duplex & { [kAnswered]?: true };
  try {
    if (s[kAnswered] === true || s.destroyed) return;
    s[kAnswered] = true;
    if (!s.writable) {
      s.destroy();
      return;
    }
    const destroy = (): void => {
      clearTimeout(timer);
      s.destroy();
    };
    const timer = setTimeout(destroy, REJECTION_TIMEOUT_MS);
    timer.unref();
    s.on('error', destroy);
    s.once('close', destroy);
    // Read and drop whatever the client still sends: unread bytes make the kernel answer the close with a
    // reset, which can discard the response before the client has read it.
    s.resume();
    s.end(formatRawResponse(status, statusText, headers, body), destroy);
  } catch {
    try {
      s.destroy();
    } catch {
      // Nothing more can be done for a socket whose destroy() throws.
    }
  }
}
