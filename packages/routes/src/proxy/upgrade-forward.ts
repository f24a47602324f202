/**
 * An upgrade request through the proxy, raw mode: the request head goes upstream with the gateway's own
 * WebSocket key; the client's early bytes are held back until the upstream's 101 has been checked (status,
 * Upgrade, Connection, accept value, subprotocol, extensions), so nothing reaches an upstream that has not
 * really switched protocols. Then the 101 is relayed and the two sockets are piped as raw bytes. A refusal
 * is relayed as the upstream wrote it. The answer is read off the socket directly (`ResponseHeadReader`):
 * the handshake is the proxy's hot path, and node's HTTP client costs a request, a parser and a message each.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { textReply, writeReply, type RequestContext } from '@wsgate/core';
import { switchHead } from './answers.js';
import { switchProblem, type SwitchExpectation } from './check-switch.js';
import { openUpstreamSocket, readyEvent } from './connect.js';
import { holdClient, releaseClient, tryNodes, type Attempt } from './failover.js';
import type { ForwardContext } from './forward-context.js';
import type { UpstreamNode } from './node.js';
import { relayRawRefusal } from './raw-refusal.js';
import { RawTunnel } from './relay/raw-tunnel.js';
import { upstreamRequestHeaders } from './request-headers.js';
import { ResponseHeadReader, type ResponseHead } from './response-head.js';
import { BadUpstreamAnswerError, classifyFailure, IdleTimeoutError } from './upstream-error.js';
import { isValidKey, newKey } from './websocket-key.js';

/** One upgrade request on its way through raw mode. */
interface Exchange {
  readonly fc: ForwardContext;
  readonly req: RequestContext<any>;
  readonly message: IncomingMessage;
  readonly client: Duplex;
  readonly head: Buffer;
  readonly expected: SwitchExpectation;
}

export async function forwardUpgrade(fc: ForwardContext, req: RequestContext<any>, message: IncomingMessage, client: Duplex, head: Buffer): Promise<void> {
  // The upstream gets a key of the gateway's: the client's own must be good enough to compute its accept value.
  if (req.isWebSocketUpgrade && !isValidKey(message.headers['sec-websocket-key'])) {
    writeReply({ socket: client, head }, textReply(400, 'Bad Request', 'Sec-WebSocket-Key must be the base64 of 16 bytes (RFC 6455 §4.1)', true));
    return;
  }
  const x: Exchange = {
    fc,
    req,
    message,
    client,
    head,
    expected: {
      upgrade: message.headers.upgrade ?? 'websocket',
      key: req.isWebSocketUpgrade ? newKey() : undefined,
      protocols: req.header('sec-websocket-protocol'),
      extensions: req.header('sec-websocket-extensions'),
    },
  };
  holdClient(client);
  await tryNodes(fc.pool, req, { socket: client, head }, (node) => attempt(x, node));
}

/** The request head sent upstream, as one string (one write). */
function requestHead(x: Exchange, node: UpstreamNode): string {
  const headers = upstreamRequestHeaders(x.req, {
    settings: x.fc.settings.headers,
    node,
    extra: x.fc.setHeaders,
    upgrade: { protocol: x.expected.upgrade, key: x.expected.key },
    keepAlive: false,
  });
  let text = `${x.req.method} ${x.fc.url ?? x.req.url} HTTP/1.1\r\n`;
  for (let i = 0; i + 1 < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return `${text}\r\n`;
}

function attempt(x: Exchange, node: UpstreamNode): Promise<Attempt> {
  const s = x.fc.settings;
  return new Promise((resolve) => {
    const socket = openUpstreamSocket(node, s);
    const reader = new ResponseHeadReader();
    let connected = false;
    let settled = false;
    const settle = (result: Attempt) => {
      if (settled) return;
      settled = true;
      socket.removeListener('data', onData);
      socket.removeListener('error', onError);
      socket.removeListener('end', onEnd);
      socket.removeListener('timeout', onTimeout);
      x.client.removeListener('close', onClientGone);
      resolve(result);
    };
    const fail = (err: Error) => {
      socket.destroy();
      const failure = classifyFailure(err, connected);
      settle({ done: false, failure, err, retryable: failure.connectFailure });
    };
    const onError = (err: Error) => fail(err);
    const onEnd = () => fail(Object.assign(new Error('upstream closed the connection before answering'), { code: 'ECONNRESET' }));
    const onTimeout = () => fail(new IdleTimeoutError(s.httpIdleMs));
    const onClientGone = () => {
      socket.destroy();
      settle({ done: true });
    };
    const onData = (chunk: Buffer) => {
      let answer: { head: ResponseHead; rest: Buffer } | undefined;
      try {
        answer = reader.push(chunk);
      } catch (err) {
        return fail(new BadUpstreamAnswerError((err as Error).message));
      }
      if (answer === undefined) return;
      const problem = answer.head.status === 101 ? switchProblem(answer.head, x.expected) : undefined;
      if (problem !== undefined) return fail(new BadUpstreamAnswerError(problem));
      settle({ done: true });
      node.recordSuccess();
      socket.setTimeout(0);
      answered(x, node, socket, answer.head, answer.rest);
    };
    socket.once(readyEvent(socket), () => (connected = true));
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('end', onEnd);
    // nginx `proxy_read_timeout` covers the wait for the upstream's answer as well.
    socket.setTimeout(s.httpIdleMs, onTimeout);
    x.client.once('close', onClientGone);
    socket.write(requestHead(x, node));
  });
}

/** The upstream answered: a checked 101 opens the tunnel, anything else is relayed as the refusal it is. */
function answered(x: Exchange, node: UpstreamNode, socket: Socket, head: ResponseHead, rest: Buffer): void {
  if (head.status !== 101) {
    x.req.log.info({ upstream: node.address.label, status: head.status }, 'upstream refused the upgrade');
    releaseClient(x.client);
    relayRawRefusal(x.client, socket, head, rest);
    return;
  }
  if (x.client.destroyed) return void socket.destroy();
  releaseClient(x.client);
  x.client.write(switchHead(head, x.expected.key === undefined ? undefined : x.message.headers['sec-websocket-key']));
  const registry = x.fc.pool.tunnels;
  node.active++;
  const tunnel = new RawTunnel(x.client, socket, x.fc.pool.liveness, {
    closed(t, cause) {
      node.active--;
      registry.delete(t);
      if (cause !== undefined) x.req.log.info({ upstream: node.address.label, cause }, 'tunnel closed');
    },
  });
  registry.add(tunnel);
  tunnel.start(x.head, rest);
}
