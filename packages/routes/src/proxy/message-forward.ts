/**
 * An upgrade request in message mode (`onMessage`): the gateway is a WebSocket client to the upstream (`ws`,
 * which checks the 101 itself) and a WebSocket server to the client, and bridges the two message by message.
 * The upstream is connected first, so that its subprotocol can be offered to the client and its refusal
 * relayed; the client's handshake is completed only then.
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import WebSocket from 'ws';
import { textReply, writeReply, type ForwardResult, type Logger, type ProxiedRequest, type TunnelControls } from '@wsgate/core';
import { endOnceOnClose } from '@wsgate/handshake';
import { relayRefusal } from './answers.js';
import type { ClientOffer } from './client-offer.js';
import { openUpstreamSocket, readyEvent } from '../upstream/connect.js';
import { holdClient, releaseClient, tryNodes, type Attempt } from './failover.js';
import type { ForwardContext } from './forward-context.js';
import type { UpstreamNode } from '../upstream/node.js';
import { MessageBridge, type BridgeEvents } from '../upstream/relay/message-bridge.js';
import { listenerOf, type TunnelRegistry } from '../upstream/relay/tunnel-registry.js';
import type { MessageHook } from '../upstream/relay/message-hook.js';
import { upstreamRequestHeaders } from './request-headers.js';
import { MAX_HEAD, parserRefusal } from './response-head.js';
import { BadUpstreamAnswerError, classifyFailure, IdleTimeoutError } from '../upstream/upstream-error.js';
import { isValidKey } from './websocket-key.js';

/** Chosen upstream subprotocol, read by the message server's `handleProtocols`. */
export const kChosenProtocol = Symbol('wsgate.chosenProtocol');

/** Headers `ws` sets itself on the upstream request. */
const WS_OWN = new Set(['connection', 'upgrade', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'sec-websocket-protocol']);

/** One upgrade request on its way through message mode. */
interface Exchange {
  readonly fc: ForwardContext;
  readonly hook: MessageHook;
  readonly req: ProxiedRequest<any>;
  readonly message: IncomingMessage;
  readonly client: Duplex;
  readonly head: Buffer;
  /** The request target sent upstream. */
  readonly url: string;
  readonly offer: ClientOffer;
}

export async function forwardMessages(
  fc: ForwardContext,
  hook: MessageHook,
  req: ProxiedRequest<any>,
  message: IncomingMessage,
  client: Duplex,
  head: Buffer,
  offer: ClientOffer,
): Promise<ForwardResult | void> {
  if (!req.isWebSocketUpgrade || !isValidKey(message.headers['sec-websocket-key']) || message.headers['sec-websocket-version'] !== '13') {
    writeReply({ socket: client, head }, textReply(400, 'Bad Request', 'A WebSocket handshake (RFC 6455, version 13) is needed here', true, { 'Sec-WebSocket-Version': '13' }));
    return { status: 400 };
  }
  holdClient(client);
  const x: Exchange = { fc, hook, req, message, client, head, url: fc.url ?? req.target, offer };
  return tryNodes(fc.pool, req, { socket: client, head }, (node) => attempt(x, node));
}

/** The client's request headers as `ws` takes them: an object, without the handshake headers it writes itself. */
function upstreamHeaders(x: Exchange, node: UpstreamNode): Record<string, string> {
  const s = x.fc.settings;
  const flat = upstreamRequestHeaders(x.req, { settings: s.headers, node, offer: x.offer, extra: x.fc.setHeaders, keepAlive: false });
  const headers: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i]!;
    if (WS_OWN.has(name.toLowerCase())) continue;
    headers[name] = headers[name] === undefined ? flat[i + 1]! : `${headers[name]}, ${flat[i + 1]}`;
  }
  return headers;
}

function attempt(x: Exchange, node: UpstreamNode): Promise<Attempt> {
  // Gone already (while the route ran, or between two tries): no upstream is asked.
  if (x.client.readableEnded || x.client.destroyed) {
    x.client.destroy();
    return Promise.resolve({ done: true, status: 499 });
  }
  const s = x.fc.settings;
  const offered = x.offer.protocols as string[];
  return new Promise((resolve) => {
    let connected = false;
    let settled = false;
    let answerDeadline: NodeJS.Timeout | undefined;
    const upstream = new WebSocket(`ws://${node.address.hostHeader}${x.url}`, offered, {
      // Bounded by the connect timeout; then the answer's deadline runs, as in raw mode (nginx
      // `proxy_read_timeout`). Not ws's handshakeTimeout: it needs the factory to set the socket's idle timeout,
      // which every byte of a trickled head would reset.
      createConnection: () => {
        const socket = openUpstreamSocket(node, s);
        socket.once(readyEvent(socket), () => {
          connected = true;
          answerDeadline = setTimeout(onSilent, s.httpIdleMs);
        });
        return socket;
      },
      headers: upstreamHeaders(x, node),
      perMessageDeflate: false,
      maxPayload: s.maxMessageSize,
      maxHeaderSize: MAX_HEAD,
      followRedirects: false,
    });
    const settle = (result: Attempt) => {
      if (settled) return;
      settled = true;
      clearTimeout(answerDeadline);
      x.client.removeListener('close', onClientGone);
      x.client.removeListener('end', onClientGone);
      resolve(result);
    };
    const fail = (err: Error) => {
      const failure = classifyFailure(err, connected);
      settle({ done: false, failure, err, retryable: failure.connectFailure });
    };
    const onSilent = () => {
      fail(new IdleTimeoutError(s.httpIdleMs));
      upstream.terminate();
    };
    // The client left: a reset closes its socket; a FIN ends it (read although the socket is paused, as nothing
    // else is buffered: a WebSocket client sends nothing before the 101). Either way the upstream goes now.
    const onClientGone = () => {
      upstream.terminate();
      x.client.destroy();
      settle({ done: true, status: 499 });
    };
    x.client.once('close', onClientGone);
    x.client.once('end', onClientGone);
    const onError = (err: Error) => {
      if (settled) return;
      // ws reports everything as an Error with a message: its checks of the 101 are told apart here.
      const bad = /^Invalid|^Server sent|^Unexpected server response/.test(err.message);
      fail(bad ? new BadUpstreamAnswerError(err.message) : (parserRefusal(err) ?? err));
    };
    const onRefused = (upReq: ClientRequest, res: IncomingMessage) => {
      node.recordSuccess();
      x.req.log.info({ upstream: node.address.label, status: res.statusCode }, 'upstream refused the upgrade');
      releaseClient(x.client);
      relayRefusal(x.client, res, () => upReq.destroy());
      settle({ done: true, status: res.statusCode ?? 502 });
    };
    upstream.on('error', onError);
    upstream.on('unexpected-response', onRefused);
    upstream.once('open', () => {
      endOnceOnClose(upstream);
      node.recordSuccess();
      settle({ done: true, status: 101 });
      bridge(x, node, upstream);
      // The bridge listens for errors from here on; these two held the exchange (the request) for the tunnel's life.
      upstream.removeListener('error', onError);
      upstream.removeListener('unexpected-response', onRefused);
    });
  });
}

/**
 * The 101 came: the bridge between the upstream WebSocket and the client's, which is accepted now. The
 * closures that live as long as the tunnel (its events, its controls in the directory) are made by functions
 * of their own, so that they hold what they use and not the request: V8 keeps a function's whole scope alive
 * for any closure made in it.
 */
function bridge(x: Exchange, node: UpstreamNode, upstream: WebSocket): void {
  const { fc, req, client } = x;
  node.active++;
  const info = { clientIp: req.clientIp, clientPort: req.clientPort, url: x.url, upstream: node.name, protocol: upstream.protocol, attributes: req.attributes };
  const b = new MessageBridge(upstream, x.hook, info, fc.pool.liveness, tunnelEvents(node, fc.pool.tunnels, req.logLater()), listenerOf(client));
  fc.pool.tunnels.add(b);
  (x.message as IncomingMessage & { [kChosenProtocol]?: string })[kChosenProtocol] = upstream.protocol;
  releaseClient(client);
  const abandon = () => b.abandon();
  client.once('close', abandon);
  fc.pool.messageServer().handleUpgrade(x.message, client, x.head, (ws) => {
    client.removeListener('close', abandon);
    endOnceOnClose(ws);
    b.attachClient(ws);
    // The 101 is out: the tunnel is listed with the gateway's connections.
    fc.pool.tunnels.track(b, req, controlsOf(b, ws.protocol));
    // Paused since the request arrived; ws only listens, so reading starts here.
    client.resume();
  });
}

/** What the bridge reports: its closing line and a hook's failure, with the request's logger made when needed. */
function tunnelEvents(node: UpstreamNode, registry: TunnelRegistry, log: () => Logger): BridgeEvents {
  return {
    closed(t, cause) {
      node.active--;
      if (cause !== undefined) log().info({ upstream: node.address.label, cause }, 'tunnel closed');
      registry.delete(t);
    },
    hookFailed(err) {
      log().error({ upstream: node.address.label, err }, 'onMessage threw; closing the tunnel with 1011');
    },
  };
}

/** The directory's handles on the tunnel (`ctl close`, `ctl ping`, a token revoked). */
function controlsOf(b: MessageBridge, protocol: string): TunnelControls {
  return {
    protocol,
    close: (code, reason) => b.close(code, reason),
    terminate: () => b.terminate(),
    ping: () => b.pingClient(),
  };
}
