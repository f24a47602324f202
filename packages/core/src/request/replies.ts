import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { writeRawResponse } from '@wsgate/handshake';
import { type ReplyHeaders } from '../vocabulary.js';

/**
 * Where a request's answer goes: a ServerResponse for plain requests, or the raw socket that node hands
 * over for upgrade requests (no HTTP machinery left there; the connection closes after the answer).
 */
export type Carrier =
  | { readonly res: ServerResponse; readonly socket?: undefined; readonly head?: undefined }
  | { readonly res?: undefined; readonly socket: Duplex; readonly head: Buffer };

export interface Reply {
  readonly status: number;
  readonly reason: string;
  /** An array value is written as one header line per value (two `WWW-Authenticate` challenges). */
  readonly headers: ReplyHeaders;
  readonly body: string | Buffer;
  /** Close the connection after it (always so on a raw socket). */
  readonly close: boolean;
}

/**
 * The one place that writes a gateway reply (docs/design.md convention 2), on either carrier.
 * Never throws: a peer that went away just loses its answer.
 */
export function writeReply(carrier: Carrier, reply: Reply): void {
  if (carrier.socket) {
    writeRawResponse(carrier.socket, reply.status, reply.reason, reply.headers, reply.body);
    return;
  }
  const res = carrier.res;
  if (res.headersSent || res.destroyed) return;
  try {
    res.statusCode = reply.status;
    res.statusMessage = reply.reason;
    // node writes an array as one line per value, as the raw carrier does.
    for (const name in reply.headers) res.setHeader(name, reply.headers[name] as string | string[]);
    res.setHeader('Content-Length', Buffer.byteLength(reply.body));
    if (reply.close) res.shouldKeepAlive = false;
    res.end(reply.body);
  } catch (err) {
    // A header value the route built badly: the request still gets an answer.
    res.destroy(err as Error);
  }
}

/** A reply with a plain-text body that says why; the status line keeps the standard phrase. */
export function textReply(status: number, reason: string, why: string, close: boolean, headers: ReplyHeaders = {}): Reply {
  return {
    status,
    reason,
    headers: { 'Content-Type': 'text/plain; charset=utf-8', ...headers },
    body: `${why}\n`,
    close,
  };
}
