import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { formatRawResponse, writeRawResponse } from './raw-response.js';
import type { HandshakeRejection } from './types.js';

const rejectionHeaders = (r: HandshakeRejection) => ({ 'Content-Type': 'text/plain; charset=utf-8', ...r.headers });
const statusText = (status: number) => STATUS_CODES[status] ?? 'Unknown';

/**
 * The complete HTTP/1.1 response for a refused handshake: status line with node's standard reason phrase,
 * `Connection: close`, the rejection's headers, and a UTF-8 plain-text body holding the reason.
 *
 * @example
 * formatRejection({ ok: false, status: 426, reason: 'Unsupported Sec-WebSocket-Version "8", expected 13',
 *   headers: { 'Sec-WebSocket-Version': '13' } })
 */
export function formatRejection(r: HandshakeRejection): string {
  return formatRawResponse(r.status, statusText(r.status), rejectionHeaders(r), `${r.reason}\n`) as string;
}

/** Sends a rejection on a socket that has not been upgraded, then closes it (see {@link writeRawResponse}). */
export function writeRejection(socket: Duplex, r: HandshakeRejection): void {
  writeRawResponse(socket, r.status, statusText(r.status), rejectionHeaders(r), `${r.reason}\n`);
}
