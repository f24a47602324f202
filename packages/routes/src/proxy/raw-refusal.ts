/**
 * Relays an upstream's refusal of an upgrade (401, 403, 426…) that was read off the raw socket: the head
 * (hop-by-hop headers dropped, `Connection: close`), then the body byte for byte, as long as its framing says
 * (Content-Length, chunked, or until the upstream closes). Then both sockets close: nothing of a connection
 * that asked to switch protocols may be reused.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ChunkedEnd } from './chunked-end.js';
import { formatHead, relayedResponseHeaders } from './response-headers.js';
import type { ResponseHead } from './response-head.js';

/** How long the body may take in all: a refusal is small, and a stuck one must not hold two sockets. */
const BODY_TIMEOUT_MS = 30_000;

export function relayRawRefusal(client: Duplex, upstream: Socket, head: ResponseHead, rest: Buffer): void {
  const chunked = /(^|,)\s*chunked\s*$/i.test(head.headers['transfer-encoding'] ?? '');
  const length = head.headers['content-length'] === undefined ? undefined : Number(head.headers['content-length']);
  const bodyless = head.status === 204 || head.status === 304 || (head.status >= 100 && head.status < 200);
  const headers = relayedResponseHeaders(head.rawHeaders);
  if (chunked) headers.push('Transfer-Encoding', 'chunked');
  headers.push('Connection', 'close');
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    upstream.destroy();
    client.end(() => client.destroy());
  };
  const timer = setTimeout(finish, BODY_TIMEOUT_MS);
  // Whatever the client still sends is read and dropped: unread bytes would turn the close into a reset.
  client.resume();
  client.on('error', () => client.destroy());
  client.write(formatHead(head.status, head.statusText || STATUS_CODES[head.status] || '', headers));

  const framing = chunked ? new ChunkedEnd() : undefined;
  let left = length !== undefined && Number.isFinite(length) ? length : Infinity;
  const take = (chunk: Buffer): boolean => {
    let n = chunk.length;
    if (framing) n = framing.push(chunk);
    else n = Math.min(n, left);
    left -= n;
    if (n > 0 && !client.write(n === chunk.length ? chunk : chunk.subarray(0, n))) upstream.pause();
    return (framing ? framing.done : left <= 0) || bodyless;
  };
  try {
    if (bodyless || take(rest)) return finish();
  } catch {
    return finish();
  }
  client.on('drain', () => upstream.resume());
  upstream.on('data', (chunk: Buffer) => {
    try {
      if (take(chunk)) finish();
    } catch {
      finish();
    }
  });
  upstream.once('end', finish);
  upstream.once('error', finish);
  client.once('close', finish);
}
