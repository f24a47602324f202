import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket } from 'ws';
import { HandshakeRefusedError, Upgrader, type HandshakeAcceptance, type HandshakeCheck, type HandshakeOptions } from '@wsgate/handshake';
import type { GatewayConfig } from '../config/types.js';
import { Connection, type CloseInfo } from './connection.js';
import { Keepalive } from './keepalive.js';
import { SendQueue } from './send-queue.js';
import type { Logger } from '../observe/logger.js';
import type { GatewayMetrics } from '../observe/metrics.js';
import type { ConnectionRegistry } from './registry.js';
import type { RequestFacts } from '../request/request-facts.js';
import { resolveEventRoutes, type EventRoutesFiredBy, type ResolvedRoutes, type WebSocketRouteResult } from '../script/event-routes.js';
import { isThenable } from '../vocabulary.js';

/**
 * The event routes the hub fires (those of script/event-routes.ts with `firedBy: 'hub'`), one array each over
 * every mounted script, resolved once (docs/design.md convention 5).
 */
export type WebSocketRoutes = Pick<ResolvedRoutes, EventRoutesFiredBy<'hub'>>;

/** A completed handshake, or why it did not complete (the answer, if any, is already written). */
export type AcceptResult =
  | { readonly ok: true; readonly conn: Connection<any> }
  | { readonly ok: false; readonly status?: number; readonly check?: HandshakeCheck | undefined };

/** Messages up to this size (bytes) have their answers written together at the end of the tick. */
const COALESCE_BELOW = 4096;

/** The WebSocket class a hub's connections are made from (see `hubWebSocket`). */
interface HubWebSocket extends WebSocket {
  connection: Connection<any> | undefined;
}

/**
 * The terminate side of the gateway: completes accepted handshakes, keeps the registry, runs keepalive,
 * and hands every event of every connection to the `websocket:*` routes.
 */
export class WebSocketHub {
  private keepalive: Keepalive;
  private upgrader: Upgrader;
  private started = false;
  // Always a resolveEventRoutes() result: one object shape, so reading a list stays a monomorphic property load.
  private routes: WebSocketRoutes = resolveEventRoutes([]);
  private readonly webSocketClass: typeof WebSocket;
  /** What each connection may be owed (`limits.sendQueue`). */
  private readonly sendQueue: SendQueue;

  constructor(
    config: GatewayConfig,
    private readonly logger: Logger,
    readonly registry: ConnectionRegistry,
    private readonly metrics: GatewayMetrics,
  ) {
    this.keepalive = new Keepalive(this.registry, config.keepalive);
    this.sendQueue = new SendQueue(config.limits.sendQueue, logger, metrics);
    this.webSocketClass = hubWebSocket(this, this.sendQueue);
    this.upgrader = new Upgrader({ maxPayload: config.limits.maxPayload, WebSocket: this.webSocketClass });
  }

  /** @internal A message from the peer (the hub's WebSocket class calls the three below). */
  message(conn: Connection<any>, data: Buffer, isBinary: boolean): void {
    if (this.routes['websocket:message'].length > 0) this.dispatchMessage(conn, data, isBinary);
  }

  /** @internal ws reports protocol violations and limits (1002, 1007, 1009) and then closes: the gateway's doing. */
  protocolError(conn: Connection<any>, err: Error): void {
    conn.closedBy = 'local';
    conn.localReason = err.message;
    this.logger.info({ conn: conn.id, err }, 'websocket protocol error');
  }

  /** The gateway's resolution of every event route; the hub reads the ones it fires. */
  setRoutes(routes: ResolvedRoutes): void {
    this.routes = routes;
  }

  start(): void {
    this.started = true;
    this.keepalive.start();
  }

  /** A reload: new keepalive and message-size settings apply from now on, send queue limits at once; open connections stay. */
  reconfigure(config: GatewayConfig): void {
    this.sendQueue.configure(config.limits.sendQueue);
    this.keepalive.stop();
    this.keepalive = new Keepalive(this.registry, config.keepalive);
    if (this.started) this.keepalive.start();
    const old = this.upgrader;
    this.upgrader = new Upgrader({ maxPayload: config.limits.maxPayload, WebSocket: this.webSocketClass });
    // Its ws servers track no clients: closing them leaves open connections alone.
    void old.close();
  }

  /**
   * Completes an accepted handshake and registers the connection. A handshake that fails here (the peer
   * went away, ws refused it) has already been answered and closed by the upgrader.
   */
  accept(
    req: RequestFacts<any>,
    raw: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    acceptance: HandshakeAcceptance,
    options: HandshakeOptions,
  ): AcceptResult {
    let ws: WebSocket;
    try {
      ws = this.upgrader.upgradeNow(raw, socket, head, acceptance, options);
    } catch (err) {
      req.log.info({ err }, 'handshake not completed');
      return err instanceof HandshakeRefusedError ? { ok: false, status: err.rejection.status, check: err.rejection.check } : { ok: false };
    }
    const conn = new Connection(this.registry.nextId(), ws, this.metrics.trafficOf(ws.protocol), {
      listener: req.listener,
      remoteAddress: req.clientIp,
      remotePort: req.clientPort,
      path: req.path,
      origin: req.origin,
      attributes: req.attributes,
    });
    (ws as HubWebSocket).connection = conn;
    this.registry.add(conn);
    for (const route of this.routes['websocket:open']) this.guard(route.name, conn, () => route.run(conn));
    return { ok: true, conn };
  }

  /** Close every connection (shutdown: 1001 Going Away). */
  closeAll(code: number, reason: string): void {
    for (const conn of this.registry) conn.close(code, reason);
  }

  terminateAll(reason: string): void {
    for (const conn of this.registry) conn.terminate(reason);
  }

  stop(): void {
    this.keepalive.stop();
    this.sendQueue.stop();
    this.upgrader.close();
  }

  private dispatchMessage(conn: Connection<any>, data: Buffer, isBinary: boolean): void {
    conn.received(data.length);
    // Small messages come many to a read, and so do their answers: coalesce them. Large ones gain nothing.
    if (data.length <= COALESCE_BELOW) conn.holdWrites();
    // The per-message path: no closure per call, unlike guard().
    const routes = this.routes['websocket:message'];
    for (let i = 0; i < routes.length; i++) {
      const route = routes[i]!;
      try {
        const result = route.run(conn, data, isBinary);
        if (isThenable(result)) result.then(undefined, (err: unknown) => this.routeThrew(route.name, conn, err));
      } catch (err) {
        this.routeThrew(route.name, conn, err);
      }
    }
  }

  /** @internal */
  closed(conn: Connection<any>, code: number, reason: Buffer): void {
    const info: CloseInfo = {
      code: this.sendQueue.ended(conn, code),
      reason: reason.length > 0 ? reason.toString() : conn.localReason,
      by: conn.closedBy,
    };
    this.registry.remove(conn, info);
    for (const route of this.routes['websocket:closed']) this.guard(route.name, conn, () => route.run(conn, info));
  }

  /** A route's exception is logged and the connection goes on: one script's bug must not take the gateway down. */
  private guard(route: string, conn: Connection<any>, run: () => WebSocketRouteResult): void {
    try {
      const result = run();
      if (isThenable(result)) result.then(undefined, (err: unknown) => this.routeThrew(route, conn, err));
    } catch (err) {
      this.routeThrew(route, conn, err);
    }
  }

  private routeThrew(route: string, conn: Connection<any>, err: unknown): void {
    this.logger.error({ route, conn: conn.id, err }, 'websocket route threw');
  }
}

/**
 * A WebSocket class for one hub: its events reach the hub straight from `emit`, with no listener on each
 * connection (four of them cost about 90 B a connection), then the listeners a script added, as before.
 * An `'error'` nobody else listens to is the hub's alone, not thrown.
 */
function hubWebSocket(hub: WebSocketHub, sendQueue: SendQueue): typeof WebSocket {
  const HubSocket = class extends WebSocket implements HubWebSocket {
    connection: Connection<any> | undefined = undefined;

    // Two arguments at most for ws's events; no rest parameter, so no array per message.
    override emit(event: string | symbol, a?: any, b?: any): boolean {
      const conn = this.connection;
      if (conn !== undefined) {
        switch (event) {
          case 'message':
            hub.message(conn, a, b);
            break;
          case 'pong':
            Keepalive.pongReceived(conn);
            break;
          case 'close':
            hub.closed(conn, a, b);
            break;
          case 'error':
            hub.protocolError(conn, a);
            if (this.listenerCount('error') === 0) return true;
            break;
        }
      }
      return arguments.length === 1 ? super.emit(event) : arguments.length === 2 ? super.emit(event, a) : super.emit(event, a, b);
    }
  };
  // Read by Connection.send(); on the prototype, so that it costs the connections nothing.
  Object.defineProperty(HubSocket.prototype, 'sendQueue', { value: sendQueue });
  return HubSocket;
}
