import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { HandshakeRefusedError, Upgrader, type HandshakeAcceptance, type HandshakeCheck, type HandshakeOptions } from '@wsgate/handshake';
import type { GatewayConfig } from './config/types.js';
import { Connection, type CloseInfo } from './connection.js';
import { Keepalive } from './keepalive.js';
import type { Logger } from './logger.js';
import { isThenable } from './pipeline.js';
import type { GatewayMetrics } from './metrics.js';
import type { ConnectionRegistry } from './registry.js';
import type { RequestContext } from './request-context.js';
import type { RouteHandlers } from './routes.js';

type Named<F> = { readonly name: string; readonly run: F };
type OpenRoute = Named<NonNullable<RouteHandlers['websocket:open']>>;
type MessageRoute = Named<NonNullable<RouteHandlers['websocket:message']>>;
type ClosedRoute = Named<NonNullable<RouteHandlers['websocket:closed']>>;

/** The WebSocket event routes of every mounted script, resolved once (DESIGN.md convention 5). */
export interface WebSocketRoutes {
  readonly open: readonly OpenRoute[];
  readonly message: readonly MessageRoute[];
  readonly closed: readonly ClosedRoute[];
}

/** A completed handshake, or why it did not complete (the answer, if any, is already written). */
export type AcceptResult =
  | { readonly ok: true; readonly conn: Connection<any> }
  | { readonly ok: false; readonly status?: number; readonly check?: HandshakeCheck | undefined };

const kConnection = Symbol('wsgate.connection');
/** Messages up to this size (bytes) have their answers written together at the end of the tick. */
const COALESCE_BELOW = 4096;
type TaggedSocket = WebSocket & { [kConnection]: Connection<any> };
const connectionOf = (ws: WebSocket): Connection<any> => (ws as TaggedSocket)[kConnection];

/**
 * The terminate side of the gateway: completes accepted handshakes, keeps the registry, runs keepalive,
 * and hands every event of every connection to the `websocket:*` routes.
 */
export class WebSocketHub {
  private keepalive: Keepalive;
  /** Pongs are listened for only while keepalive pings (a listener per connection otherwise unused). */
  private hearsPongs: boolean;
  private upgrader: Upgrader;
  private started = false;
  private routes: WebSocketRoutes = { open: [], message: [], closed: [] };
  // Listeners shared by every socket (`this` is the WebSocket): nothing allocated per connection for them.
  private readonly onMessage: (this: WebSocket, data: Buffer, isBinary: boolean) => void;
  private readonly onClose: (this: WebSocket, code: number, reason: Buffer) => void;
  private readonly onError: (this: WebSocket, err: Error) => void;
  private readonly onPong: (this: WebSocket) => void;

  constructor(
    config: GatewayConfig,
    private readonly logger: Logger,
    readonly registry: ConnectionRegistry,
    private readonly metrics: GatewayMetrics,
  ) {
    this.keepalive = new Keepalive(this.registry, config.keepalive);
    this.hearsPongs = config.keepalive.mechanism === 'ping';
    this.upgrader = new Upgrader({ maxPayload: config.limits.maxPayload });
    const hub = this;
    this.onMessage = function (data, isBinary) {
      hub.dispatchMessage(connectionOf(this), data, isBinary);
    };
    this.onClose = function (code, reason) {
      hub.closed(connectionOf(this), code, reason);
    };
    this.onError = function (err) {
      // ws reports protocol violations and limits (1002, 1007, 1009) and then closes: the gateway's doing.
      const conn = connectionOf(this);
      conn.closedBy = 'local';
      conn.localReason = err.message;
      hub.logger.info({ conn: conn.id, err }, 'websocket protocol error');
    };
    this.onPong = function () {
      Keepalive.pongReceived(connectionOf(this));
    };
  }

  setRoutes(routes: WebSocketRoutes): void {
    this.routes = routes;
  }

  start(): void {
    this.started = true;
    this.keepalive.start();
  }

  /** A reload: new keepalive and message-size settings apply from now on; open connections stay. */
  reconfigure(config: GatewayConfig): void {
    this.keepalive.stop();
    this.keepalive = new Keepalive(this.registry, config.keepalive);
    if (this.started) this.keepalive.start();
    const hearsPongs = config.keepalive.mechanism === 'ping';
    if (hearsPongs !== this.hearsPongs) {
      this.hearsPongs = hearsPongs;
      for (const entry of this.registry) {
        if (entry.kind !== 'terminated') continue;
        const conn = entry as Connection<any>;
        if (hearsPongs) conn.ws.on('pong', this.onPong);
        else conn.ws.removeListener('pong', this.onPong);
      }
    }
    const old = this.upgrader;
    this.upgrader = new Upgrader({ maxPayload: config.limits.maxPayload });
    // Its ws servers track no clients: closing them leaves open connections alone.
    void old.close();
  }

  /**
   * Completes an accepted handshake and registers the connection. A handshake that fails here (the peer
   * went away, ws refused it) has already been answered and closed by the upgrader.
   */
  accept(
    req: RequestContext<any>,
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
    (ws as TaggedSocket)[kConnection] = conn;
    this.registry.add(conn);
    ws.on('close', this.onClose);
    ws.on('error', this.onError);
    if (this.routes.message.length > 0) ws.on('message', this.onMessage);
    if (this.hearsPongs) ws.on('pong', this.onPong);
    for (const route of this.routes.open) this.guard(route.name, conn, () => route.run(conn));
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
    this.upgrader.close();
  }

  private dispatchMessage(conn: Connection<any>, data: Buffer, isBinary: boolean): void {
    conn.received(data.length);
    // Small messages come many to a read, and so do their answers: coalesce them. Large ones gain nothing.
    if (data.length <= COALESCE_BELOW) conn.holdWrites();
    // The per-message path: no closure per call, unlike guard().
    const routes = this.routes.message;
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

  private closed(conn: Connection<any>, code: number, reason: Buffer): void {
    const info: CloseInfo = { code, reason: reason.length > 0 ? reason.toString() : conn.localReason, by: conn.closedBy };
    this.registry.remove(conn, info);
    for (const route of this.routes.closed) this.guard(route.name, conn, () => route.run(conn, info));
  }

  /** A route's exception is logged and the connection goes on: one script's bug must not take the gateway down. */
  private guard(route: string, conn: Connection<any>, run: () => void | Promise<void>): void {
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
