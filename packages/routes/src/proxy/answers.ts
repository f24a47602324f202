/**
 * What the client gets back on an upgrade request's raw socket: the upstream's 101 (checked, re-keyed) or
 * its refusal, relayed; and on either carrier, the gateway's own 502/504 when no upstream answered.
 */
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { textReply, writeReply, type Carrier } from '@wsgate/core';
import type { ResponseHead } from './response-head.js';
import { formatHead, relayedResponseHeaders } from './response-headers.js';
import type { UpstreamFailure } from './upstream-error.js';
import { acceptFor } from './websocket-key.js';

const OMIT_ACCEPT = new Set(['sec-websocket-accept']);

/** The gateway's own answer when the upstream could not be used (the connection then closes). */
export function answerFailure(carrier: Carrier, failure: UpstreamFailure): void {
  writeReply(carrier, textReply(failure.status, STATUS_CODES[failure.status]!, failure.reason, true));
}

/**
 * The upstream's 101 as the client gets it: the upstream's headers (subprotocol, extensions, cookies…)
 * without hop-by-hop ones, and the accept value for the client's own key.
 */
export function switchHead(res: ResponseHead, clientKey: string | undefined): string {
  const headers = relayedResponseHeaders(res.rawHeaders, OMIT_ACCEPT);
  headers.push('Upgrade', res.headers.upgrade ?? 'websocket', 'Connection', 'upgrade');
  if (clientKey !== undefined) headers.push('Sec-WebSocket-Accept', acceptFor(clientKey));
  return formatHead(101, 'Switching Protocols', headers);
}

/**
 * Relays an upstream's refusal of an upgrade that node's client parsed (message mode: `ws` hands it over) on
 * the client's raw socket, body streamed, then closes it: nothing of the connection may be reused once the
 * client asked to switch protocols.
 */
export function relayRefusal(client: Duplex, res: IncomingMessage, done: () => void): void {
  const headers = relayedResponseHeaders(res.rawHeaders);
  headers.push('Connection', 'close');
  // Whatever the client still sends is read and dropped: unread bytes would turn the close into a reset
  // that can destroy the answer before the client reads it.
  client.resume();
  client.write(formatHead(res.statusCode ?? 502, res.statusMessage || STATUS_CODES[res.statusCode ?? 502] || '', headers));
  res.pipe(client);
  // Kept by node's client after a complete answer to a request that said `Connection: upgrade`.
  const upstream = res.socket;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    client.destroy();
    res.destroy();
    upstream?.destroy();
    done();
  };
  client.once('finish', finish);
  client.once('close', finish);
  res.once('error', finish);
  res.once('aborted', finish);
}
