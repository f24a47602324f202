/**
 * The TLS handshake's own bounds on an HTTPS listener: a deadline (`limits.tlsHandshakeTimeout`), and a
 * handshake that fails or runs out of time ends its connection at once, with no HTTP answer.
 */
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { LimitsConfig } from '../../config/types.js';

/**
 * Node's `handshakeTimeout`, in ms. Node arms it when it accepts the connection and it is a deadline: bytes
 * that keep trickling in (a ClientHello a byte at a time) do not extend it.
 */
export function tlsHandshakeTimeoutMs(limits: LimitsConfig): number {
  return Math.round(limits.tlsHandshakeTimeout * 1000);
}

/**
 * Destroys the socket of a failed or timed-out handshake before anything else sees it. Node's https server
 * passes `tlsClientError` on as `clientError`, whose handler answers HTTP errors (400, 408): written into a
 * socket whose TLS never started, such an answer never flushes, and held the socket until its 5 s write
 * timer. A client whose TLS never started gets no bytes; a garbled ClientHello at most OpenSSL's alert.
 */
export function dropFailedHandshakes(server: HttpsServer, onFailure: (err: Error, socket: TLSSocket) => void): void {
  server.prependListener('tlsClientError', (err: Error, socket: TLSSocket) => {
    socket.destroy();
    onFailure(err, socket);
  });
}

/**
 * For a reload: node reads the deadline off the server for each connection it accepts, from a slot it does
 * not export. Connections already handshaking keep theirs. A plain HTTP server has no such slot: nothing to do.
 * handshake-timeout.test.ts pins this to the node in use (a renamed slot fails its reload test).
 */
export function setTlsHandshakeTimeout(server: HttpServer | HttpsServer, ms: number): void {
  const slot = Object.getOwnPropertySymbols(server).find((s) => s.description === 'handshake-timeout');
  if (slot) (server as unknown as Record<symbol, number>)[slot] = ms;
}
