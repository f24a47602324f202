import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { endOnceOnClose } from './end-once.js';
import { writeRejection } from './reject.js';
import type {
  HandshakeAcceptance,
  HandshakeOptions,
  HandshakeRejection,
  PerMessageDeflateOptions,
} from './types.js';

/** Default largest message, in bytes, when neither the route nor the Upgrader says otherwise. */
export const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/**
 * The handshake was refused while committing (by `ws` itself, or because the Upgrader is closed). The
 * rejection has already been written with `writeRejection`; it is here to be logged and counted.
 */
export class HandshakeRefusedError extends Error {
  override readonly name = 'HandshakeRefusedError';
  readonly code = 'WSGATE_HANDSHAKE_REFUSED';
  constructor(readonly rejection: HandshakeRejection) {
    super(`${rejection.status} ${rejection.reason}`);
  }
}

/** The socket was gone (closed, ended or destroyed) before the 101 could be written; it has been destroyed. */
export class HandshakeAbortedError extends Error {
  override readonly name = 'HandshakeAbortedError';
  readonly code = 'WSGATE_HANDSHAKE_ABORTED';
  constructor() {
    super('The socket closed before the WebSocket handshake could complete');
  }
}

export interface UpgraderOptions {
  /** Largest message in bytes for routes that do not set `maxPayload`. Default 1 MiB. */
  maxPayload?: number;
  /** The class each connection's WebSocket is made from: ws's `WebSocket` (default) or a subclass of it. */
  WebSocket?: typeof WebSocket;
}

/** What one upgrade hands to the server-wide listeners, which find it on the request, and what they leave. */
interface Pending {
  readonly protocol: string | undefined;
  readonly headers: Readonly<Record<string, string>> | undefined;
  ws: WebSocket | undefined;
  error: HandshakeRefusedError | undefined;
}

const kPending = Symbol('wsgate.upgrade');
type StashedRequest = IncomingMessage & { [kPending]?: Pending | undefined };

interface ServersByDeflate {
  off?: WebSocketServer;
  on?: WebSocketServer;
  custom?: Map<string, WebSocketServer>;
}

/**
 * The one step that commits an accepted handshake: writes the 101 and hands the socket to `ws`.
 *
 * `ws` servers are built lazily, one per distinct `{ perMessageDeflate, maxPayload }` (equal option objects
 * share one), with a single set of listeners each: per-upgrade facts (chosen subprotocol, extra headers, the
 * promise) travel on the request under a symbol, so an upgrade adds no listener and no closure to `ws`.
 */
export class Upgrader {
  readonly #defaultMaxPayload: number;
  readonly #webSocketClass: typeof WebSocket;
  readonly #servers = new Map<number, ServersByDeflate>();
  readonly #deflateKeys = new WeakMap<PerMessageDeflateOptions, string>();
  #closed = false;

  constructor(options: UpgraderOptions = {}) {
    this.#defaultMaxPayload = checkMaxPayload(options.maxPayload ?? DEFAULT_MAX_PAYLOAD, 'Upgrader maxPayload');
    this.#webSocketClass = options.WebSocket ?? WebSocket;
  }

  /**
   * Upgrades `socket` with the decision `validateHandshake` took for `req`. Bytes already received after the
   * request (`head`) are the WebSocket's first bytes.
   *
   * Listeners attached where the promise settles (in `.then`, or right after `await`) miss no event: data
   * already received is held until the current turn of the event loop is over. The WebSocket has an `'error'`
   * listener already, because ws closes the connection itself (1002, 1009…) and a client must not be able
   * to crash the process before the caller has attached its own.
   *
   * @returns the open WebSocket, whose `protocol` is `acceptance.protocol`
   * @throws (rejects) {@link HandshakeRefusedError} when `ws` refuses the request (a 400 with its message has
   *   been written) or the Upgrader is closed (503); {@link HandshakeAbortedError} when the socket was already
   *   gone (it is destroyed). A route option that is not a valid maxPayload throws a TypeError synchronously.
   */
  upgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    acceptance: HandshakeAcceptance,
    options: HandshakeOptions,
  ): Promise<WebSocket> {
    // Bytes that came with the request would reach ws on the next tick, before the promise's reactions run
    // (node drains nextTicks before microtasks): their messages would find no listener. Hold them back.
    const held = head.length > 0 || socket.readableLength > 0 ? socket : undefined;
    held?.pause();
    try {
      const ws = this.upgradeNow(req, socket, head, acceptance, options);
      // ws closes connections itself (1002, 1009…): no client may crash the process before the caller listens.
      ws.on('error', ignoreError);
      if (held !== undefined) setImmediate(release, ws, held);
      return Promise.resolve(ws);
    } catch (err) {
      // A bad route option is the caller's bug, thrown as documented; the rest is this upgrade's outcome.
      if (err instanceof TypeError) throw err;
      held?.resume();
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /**
   * {@link upgrade}, synchronously: returns the open WebSocket or throws what `upgrade` rejects with. Listeners
   * attached before the caller's turn ends miss nothing (data flows from the next tick on), and no promise
   * or microtask is spent: the handshake path of a gateway whose routes are synchronous. Attach an `'error'`
   * listener in that same turn: ws reports the protocol violations it closes a connection for as errors.
   */
  upgradeNow(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    acceptance: HandshakeAcceptance,
    options: HandshakeOptions,
  ): WebSocket {
    if (this.#closed) {
      const rejection: HandshakeRejection = { ok: false, status: 503, reason: 'Server is shutting down', headers: {}, check: 'shutdown' };
      writeRejection(socket, rejection);
      throw new HandshakeRefusedError(rejection);
    }
    const wss = this.#serverFor(options);
    if (socket.destroyed || !socket.readable || !socket.writable) {
      socket.destroy();
      throw new HandshakeAbortedError();
    }
    // ws wants `Upgrade` to be exactly "websocket"; the route accepted a list that contains it
    // (`websocket, h2c/1`), and the decision is taken, so the request now says what it is upgraded to.
    const upgrade = req.headers.upgrade;
    if (upgrade !== undefined && (upgrade.length !== 9 || upgrade.toLowerCase() !== 'websocket')) {
      req.headers.upgrade = 'websocket';
    }
    const r = req as StashedRequest;
    const headers = acceptance.headers;
    const pending: Pending = { protocol: acceptance.protocol, headers: hasAny(headers) ? headers : undefined, ws: undefined, error: undefined };
    r[kPending] = pending;
    try {
      wss.handleUpgrade(req, socket, head, onUpgraded);
    } finally {
      // ws throws only when this socket was already upgraded: a caller bug, passed on as it is.
      r[kPending] = undefined;
    }
    if (pending.ws !== undefined) return pending.ws;
    if (pending.error !== undefined) throw pending.error;
    // Without verifyClient, ws decides synchronously: neither outcome means it silently destroyed a socket
    // that had half-closed meanwhile.
    socket.destroy();
    throw new HandshakeAbortedError();
  }

  /**
   * Refuses further upgrades (503) and closes the inner `ws` servers. Open WebSockets are not touched: the
   * connection registry owns them.
   */
  close(): Promise<void> {
    this.#closed = true;
    const closing: Promise<void>[] = [];
    for (const slots of this.#servers.values()) {
      const all = [slots.off, slots.on, ...(slots.custom?.values() ?? [])];
      for (const wss of all) {
        if (wss !== undefined) closing.push(new Promise((resolve) => wss.close(() => resolve())));
      }
    }
    this.#servers.clear();
    return Promise.all(closing).then(() => undefined);
  }

  #serverFor(options: HandshakeOptions): WebSocketServer {
    const maxPayload =
      options.maxPayload === undefined
        ? this.#defaultMaxPayload
        : checkMaxPayload(options.maxPayload, 'handshake maxPayload');
    let slots = this.#servers.get(maxPayload);
    if (slots === undefined) this.#servers.set(maxPayload, (slots = {}));
    const deflate = options.perMessageDeflate;
    if (deflate === undefined || deflate === false) {
      return (slots.off ??= this.#create(maxPayload, false));
    }
    const key = deflate === true ? '{}' : this.#deflateKey(deflate);
    if (key === '{}') return (slots.on ??= this.#create(maxPayload, true));
    const custom = (slots.custom ??= new Map());
    let wss = custom.get(key);
    if (wss === undefined) custom.set(key, (wss = this.#create(maxPayload, deflate as PerMessageDeflateOptions)));
    return wss;
  }

  /** A canonical string for a parameter object, computed once per object (routes usually reuse theirs). */
  #deflateKey(deflate: PerMessageDeflateOptions): string {
    let key = this.#deflateKeys.get(deflate);
    if (key === undefined) {
      const params = deflate as Record<string, unknown>;
      const defined = Object.keys(params).filter((k) => params[k] !== undefined).sort();
      key = defined.length === 0 ? '{}' : JSON.stringify(defined.map((k) => [k, params[k]]));
      this.#deflateKeys.set(deflate, key);
    }
    return key;
  }

  #create(maxPayload: number, perMessageDeflate: boolean | PerMessageDeflateOptions): WebSocketServer {
    const wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload,
      // A copy: ws keeps the object, and the route's may be frozen or change later.
      perMessageDeflate: typeof perMessageDeflate === 'object' ? { ...perMessageDeflate } : perMessageDeflate,
      handleProtocols,
      WebSocket: this.#webSocketClass,
    });
    wss.on('headers', addHeaders);
    wss.on('wsClientError', refuse);
    return wss;
  }
}

function handleProtocols(_offered: Set<string>, req: IncomingMessage): string | false {
  return (req as StashedRequest)[kPending]?.protocol ?? false;
}

function addHeaders(lines: string[], req: IncomingMessage): void {
  const headers = (req as StashedRequest)[kPending]?.headers;
  if (headers === undefined) return;
  for (const name in headers) lines.push(`${name}: ${headers[name]}`);
}

function onUpgraded(ws: WebSocket, req: IncomingMessage): void {
  const pending = (req as StashedRequest)[kPending];
  if (pending !== undefined) pending.ws = ws;
  endOnceOnClose(ws);
}

function ignoreError(): void {}

/** Lets held data flow, unless the caller paused the WebSocket meanwhile (as ws's own drain handler does). */
function release(ws: WebSocket, socket: Duplex): void {
  if (!ws.isPaused) socket.resume();
}

/** ws refused a request validateHandshake accepted: still one choke point for the response. */
function refuse(err: Error, socket: Duplex, req: IncomingMessage): void {
  const rejection: HandshakeRejection = { ok: false, status: 400, reason: err.message, headers: {}, check: 'ws' };
  writeRejection(socket, rejection);
  const pending = (req as StashedRequest)[kPending];
  if (pending !== undefined) pending.error = new HandshakeRefusedError(rejection);
}

function hasAny(headers: Readonly<Record<string, string>>): boolean {
  for (const _ in headers) return true;
  return false;
}

function checkMaxPayload(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`${what} must be a non-negative integer number of bytes (0: no limit), got ${String(value)}`);
  }
  return value;
}
