/**
 * What the client gets back on an upgrade request's raw socket: the upstream's 101 (checked, re-keyed) or
 * its refusal, relayed; and on either carrier, the gateway's own 502/504 when no upstream answered.
 */
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { textReply, writeReply, type Carrier } from '@wsgate/core';
import type { ResponseHead } from './response-head.js';
import { formatHead, relayedResponseHeaders } from './response-headers.js';
import type { UpstreamFailure } from '../upstream/upstream-error.js';

/** Headers of the upstream's 101 the gateway writes itself: framing and connection belong to each hop. */
const OWN_101 = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'sec-websocket-accept']);

/** The gateway's own answer when the upstream could not be used (the connection then closes). */
export function answerFailure(carrier: Carrier, failure: UpstreamFailure): void {
  writeReply(carrier, textReply(failure.status, STATUS_CODES[failure.status]!, failure.reason, true));
}

/**
 * The upstream's 101 as the client gets it: the upstream's headers (subprotocol, extensions, cookies…) as they
 * came, in one pass over the names the head reader lower-cased, without hop-by-hop ones; then `Upgrade`,
 * `Connection` and the accept value for the client's own key (`clientAccept`, for WebSocket).
 */
export function switchHead(res: ResponseHead, clientAccept: string | undefined): string {
  const named = namedByConnection(res.headers.connection);
  const { rawHeaders, names } = res;
  let head = 'HTTP/1.1 101 Switching Protocols\r\n';
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    if (OWN_101.has(name) || named?.has(name)) continue;
    head += `${rawHeaders[2 * i]}: ${rawHeaders[2 * i + 1]}\r\n`;
  }
  head += `Upgrade: ${res.headers.upgrade ?? 'websocket'}\r\nConnection: upgrade\r\n`;
  return clientAccept === undefined ? `${head}\r\n` : `${head}Sec-WebSocket-Accept: ${clientAccept}\r\n\r\n`;
}

/**
 * Headers the upstream's `Connection` names besides `upgrade` (rare in a 101): hop-by-hop too. Read leniently,
 * as for every relayed answer (`relayedResponseHeaders`): each comma-separated piece is dropped as a name.
 */
function namedByConnection(value: string | undefined): Set<string> | undefined {
  // The check made sure the value lists upgrade: seven characters are exactly that, the usual case.
  if (value === undefined || value.length === 7) return undefined;
  let out: Set<string> | undefined;
  for (const t of value.split(',')) {
    const name = t.trim().toLowerCase();
    if (name !== '' && name !== 'upgrade') (out ??= new Set()).add(name);
  }
  return out;
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
