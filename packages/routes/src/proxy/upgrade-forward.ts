/**
 * An upgrade request through the proxy, raw mode: the request head goes upstream with the gateway's own
 * WebSocket key; the client's early bytes are held back until the upstream's 101 has been checked (status,
 * Upgrade, Connection, accept value, subprotocol, extensions), so nothing reaches an upstream that has not
 * really switched protocols. Then the 101 is relayed and the two sockets are piped as raw bytes. A refusal
 * is relayed as the upstream wrote it.
 *
 * This is the proxy's hot path, and it is written for it: the answer is read off the socket directly
 * (`ResponseHeadReader`; node's HTTP client costs a request, a parser and a message each); a try is one object
 * whose socket listeners are shared functions, and whose connect and answer deadlines are one entry in a
 * sweep, dropped when the try settles (an entry kept until the next sweep would keep its socket alive past
 * the young generation: measurably worse than a timer).
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { detachedString, textReply, writeReply, type ForwardResult, type ProxiedRequest, type TunnelControls } from '@wsgate/core';
import { acceptKey } from '@wsgate/handshake';
import { switchHead } from './answers.js';
import { switchProblem } from './check-switch.js';
import type { ClientOffer } from './client-offer.js';
import { openUpstreamSocket, readyEvent } from '../upstream/connect.js';
import { DeadlineSweep, type Pending } from './deadline-sweep.js';
import { holdClient, releaseClient, tryNodes, type Attempt } from './failover.js';
import type { ForwardContext } from './forward-context.js';
import type { UpstreamNode } from '../upstream/node.js';
import { relayRawRefusal } from './raw-refusal.js';
import { RawTunnel, type RawTunnelEvents } from '../upstream/relay/raw-tunnel.js';
import type { TunnelRegistry } from '../upstream/relay/tunnel-registry.js';
import { upstreamRequestHeaders } from './request-headers.js';
import { ResponseHeadReader, type ResponseHead } from './response-head.js';
import { BadUpstreamAnswerError, classifyFailure, ConnectTimeoutError, IdleTimeoutError } from '../upstream/upstream-error.js';
import { isValidKey, newKey } from './websocket-key.js';

/** One upgrade request on its way through raw mode. */
interface Exchange {
  readonly fc: ForwardContext;
  readonly req: ProxiedRequest<any>;
  readonly message: IncomingMessage;
  readonly client: Duplex;
  readonly head: Buffer;
  readonly offer: ClientOffer;
  /** The key sent upstream, for a WebSocket upgrade. */
  readonly key: string | undefined;
}

/** Not an async function: the promise is `tryNodes()`'s own, not one more around it; a throw is a rejection still. */
export function forwardUpgrade(fc: ForwardContext, req: ProxiedRequest<any>, message: IncomingMessage, client: Duplex, head: Buffer, offer: ClientOffer): Promise<ForwardResult | void> {
  try {
    const websocket = req.isWebSocketUpgrade;
    // The upstream gets a key of the gateway's: the client's own must be good enough to compute its accept value.
    if (websocket && !isValidKey(message.headers['sec-websocket-key'])) {
      writeReply({ socket: client, head }, textReply(400, 'Bad Request', 'Sec-WebSocket-Key must be the base64 of 16 bytes (RFC 6455 §4.1)', true));
      return Promise.resolve({ status: 400 });
    }
    const x: Exchange = { fc, req, message, client, head, offer, key: websocket ? newKey() : undefined };
    holdClient(client);
    return tryNodes(fc.pool, req, { socket: client, head }, (node) => new UpstreamTry(x, node).result);
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * A character no single byte holds: only a script's own header value (`set`, `setHeaders`) can carry one,
 * and only then is the head written as UTF-8 (as before); anything read off the wire is latin1 text already.
 */
const WIDE = /[\u0100-\uffff]/;

/**
 * How a head goes on the wire: byte for byte (latin1: what came in as obs-text goes out as the same bytes, as
 * nginx passes them, and node writes it without an encoding pass), or UTF-8 when a script put a wider
 * character in (see WIDE).
 */
function headEncoding(text: string): 'latin1' | 'utf8' {
  return WIDE.test(text) ? 'utf8' : 'latin1';
}

/**
 * Can the head hold a script's or the config's own text (see WIDE)? Without any, every part of it is latin1
 * already (read off the wire, or ASCII the gateway makes), and the head is not searched.
 */
function carriesOwnText(fc: ForwardContext): boolean {
  const h = fc.settings.headers;
  return fc.url !== undefined || fc.setHeaders !== undefined || h.set.length > 0 || typeof h.host === 'object';
}

/** The request head sent upstream, as one string (one write). */
function requestHead(x: Exchange, node: UpstreamNode): string {
  const headers = upstreamRequestHeaders(x.req, {
    settings: x.fc.settings.headers,
    node,
    offer: x.offer,
    extra: x.fc.setHeaders,
    // A WebSocket upgrade asks for websocket alone, whatever else the client listed (`h2c, websocket`).
    upgrade: { protocol: x.key === undefined ? (x.offer.upgradeValue ?? '') : 'websocket', key: x.key },
    keepAlive: false,
  });
  let text = `${x.req.method} ${x.fc.url ?? x.req.target} HTTP/1.1\r\n`;
  for (let i = 0; i + 1 < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return `${text}\r\n`;
}

/** Upgrades waiting for their upstream's connect or answer, all pools together. */
const pending = new DeadlineSweep();
const kTry = Symbol('wsgate.upstreamTry');
type TrySocket = Socket & { [kTry]?: UpstreamTry };

/**
 * One try on one node: connect (within the connect timeout), send the head, wait for the answer (nginx
 * `proxy_read_timeout` bounds it).
 */
class UpstreamTry implements Pending {
  readonly result: Promise<Attempt>;
  private resolve!: (attempt: Attempt) => void;
  private readonly socket: TrySocket;
  private readonly reader = new ResponseHeadReader();
  /** The connect deadline, then, once connected, the answer's. */
  private deadline: number;
  private readonly ready: 'connect' | 'secureConnect';
  /** The request head, written once connected: one write, none of the buffering node does for a socket still connecting. */
  private head: string | undefined;
  private readonly encoding: 'latin1' | 'utf8';
  private connected = false;
  private settled = false;

  constructor(
    private readonly x: Exchange,
    private readonly node: UpstreamNode,
  ) {
    // Made first: a script's header value that cannot be sent throws here (a rejection of this try), before any
    // socket is opened.
    const head = requestHead(x, node);
    this.head = head;
    this.encoding = carriesOwnText(x.fc) ? headEncoding(head) : 'latin1';
    this.result = new Promise((resolve) => (this.resolve = resolve));
    const s = x.fc.settings;
    const socket: TrySocket = openUpstreamSocket(node, s, { timed: false });
    this.socket = socket;
    socket[kTry] = this;
    this.ready = readyEvent(socket);
    socket.on(this.ready, onTryConnect);
    socket.on('data', onTryData);
    socket.on('error', onTryError);
    socket.on('end', onTryEnd);
    this.deadline = Date.now() + s.connectTimeoutMs;
    pending.add(this, Math.min(s.connectTimeoutMs, s.httpIdleMs));
  }

  /**
   * The sweep: the client left — a reset, or a FIN (the socket is paused, but with nothing buffered its end is
   * still read) — or the upstream is too slow.
   */
  check(now: number): boolean {
    if (this.settled) return true;
    if (this.x.client.destroyed || this.x.client.readableEnded) {
      this.socket.destroy();
      this.x.client.destroy();
      this.settle({ done: true, status: 499 });
      return true;
    }
    if (now < this.deadline) return false;
    const s = this.x.fc.settings;
    this.fail(this.connected ? new IdleTimeoutError(s.httpIdleMs) : new ConnectTimeoutError(s.connectTimeoutMs));
    return true;
  }

  /** Connected (TLS: secured): from now on the answer's deadline applies. */
  connect(): void {
    this.connected = true;
    this.deadline = Date.now() + this.x.fc.settings.httpIdleMs;
    const head = this.head!;
    this.head = undefined;
    this.socket.write(head, this.encoding);
  }

  fail(err: Error): void {
    if (this.settled) return;
    this.socket.destroy();
    const failure = classifyFailure(err, this.connected);
    this.settle({ done: false, failure, err, retryable: failure.connectFailure });
  }

  data(chunk: Buffer): void {
    let answer: { head: ResponseHead; rest: Buffer } | undefined;
    try {
      answer = this.reader.push(chunk);
    } catch (err) {
      return this.fail(new BadUpstreamAnswerError((err as Error).message));
    }
    if (answer === undefined) return;
    const problem = answer.head.status === 101 ? switchProblem(answer.head, this.x) : undefined;
    if (problem !== undefined) return this.fail(new BadUpstreamAnswerError(problem));
    this.settle({ done: true, status: answer.head.status === 101 && this.x.client.destroyed ? 499 : answer.head.status });
    this.node.recordSuccess();
    answered(this.x, this.node, this.socket, answer.head, answer.rest);
  }

  private settle(result: Attempt): void {
    this.settled = true;
    const socket = this.socket;
    socket.removeListener(this.ready, onTryConnect);
    socket.removeListener('data', onTryData);
    socket.removeListener('error', onTryError);
    socket.removeListener('end', onTryEnd);
    socket[kTry] = undefined;
    pending.delete(this);
    this.resolve(result);
  }
}

function onTryConnect(this: TrySocket): void {
  this[kTry]!.connect();
}

function onTryData(this: TrySocket, chunk: Buffer): void {
  this[kTry]!.data(chunk);
}

function onTryError(this: TrySocket, err: Error): void {
  this[kTry]!.fail(err);
}

function onTryEnd(this: TrySocket): void {
  this[kTry]!.fail(Object.assign(new Error('upstream closed the connection before answering'), { code: 'ECONNRESET' }));
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
  // The upstream's head is latin1 text (read so), written back byte for byte; the gateway's own parts are ASCII.
  x.client.write(switchHead(head, x.key === undefined ? undefined : acceptKey(x.message.headers['sec-websocket-key']!)), 'latin1');
  const registry = x.fc.pool.tunnels;
  node.active++;
  // What the tunnel keeps of the exchange: its closing line's logger, not the request (see `logLater`).
  const tunnel = new RawTunnel(x.client, socket, x.fc.pool.liveness, new TunnelEnd(node, x.req.logLater(), registry));
  registry.add(tunnel);
  // A WebSocket tunnel is listed with the gateway's connections (other upgrades are not WebSockets).
  if (x.key !== undefined) {
    // Kept as long as the tunnel: a copy, not a view into the upstream's head.
    registry.track(tunnel, x.req, new Controls(tunnel, detachedString(head.headers['sec-websocket-protocol'] ?? '')));
  }
  tunnel.start(x.head, rest);
}

/*
 * What an open tunnel keeps of its handshake: one object each, their methods shared, rather than closures and
 * the contexts they hold (kept, and so promoted, for as long as the tunnel is open).
 */

/** The tunnel is gone: the node's count, the closing line, the registry. */
class TunnelEnd implements RawTunnelEvents {
  constructor(
    private readonly node: UpstreamNode,
    private readonly log: () => ProxiedRequest<any>['log'],
    private readonly registry: TunnelRegistry,
  ) {}

  closed(t: RawTunnel, cause: string | undefined): void {
    this.node.active--;
    if (cause !== undefined) this.log().info({ upstream: this.node.address.label, cause }, 'tunnel closed');
    this.registry.delete(t);
  }
}

/** What the gateway's connection directory may do to a listed tunnel. */
class Controls implements TunnelControls {
  constructor(
    private readonly tunnel: RawTunnel,
    readonly protocol: string,
  ) {}

  close(code: number, reason: string): void {
    this.tunnel.close(code, reason);
  }

  terminate(): void {
    this.tunnel.terminate();
  }
}
