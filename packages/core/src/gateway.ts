import { AccessLog } from './observe/access-log.js';
import type { Server } from 'node:http';
import type { GatewayConfig, LimitsConfig, ListenerConfig } from './config/types.js';
import { WsgateError } from './errors.js';
import { RequestDispatcher } from './request/dispatch.js';
import { HostMatcher } from './request/host-matcher.js';
import { ownNames } from './request/own-names.js';
import { startListener, type RunningListener } from './ingress/listener.js';
import { createLogger, type Logger } from './observe/logger.js';
import { GatewayMetrics } from './observe/metrics.js';
import { ManagementViews } from './management/views.js';
import { RealIpResolver } from './ingress/real-ip.js';
import type { ConnectionDirectory } from './connections/directory.js';
import { ConnectionRegistry } from './connections/registry.js';
import { WORKER_ID_SPAN } from './connections/node-claim.js';
import type { RequestEnv } from './request/request-facts.js';
import { isRoutes, type Routes } from './script/routes.js';
import { resolveEventRoutes } from './script/event-routes.js';
import { type ListenerCredentials, resolveTlsCredentials } from './ingress/tls/credentials.js';
import { setTlsHandshakeTimeout, tlsHandshakeTimeoutMs } from './ingress/tls/handshake-limit.js';
import { WebSocketHub } from './connections/hub.js';
import { configuredStore } from './store/configured-store.js';
import { RedisStore } from './store/redis-store.js';
import type { Store } from './store/store.js';
import { SharedDirectory } from './connections/shared-directory.js';

export interface GatewayOptions {
  /** Where the gateway logs; by default a pino logger as `config.log` says (level, file, pretty), on stderr without a file. */
  logger?: Logger;
  /** In a cluster, this worker's number (1…N): it prefixes connection ids. */
  workerIndex?: number;
  /** TLS session-ticket keys (48 bytes) every TLS listener uses: a cluster's workers share the primary's. */
  tlsTicketKeys?: Buffer;
}

/** Where a listener ended up bound. */
export interface ListenerAddress {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
}

/**
 * A wsgate gateway: listeners, the route pipeline every request runs through, and the WebSockets it
 * terminates. Embed it (`new Gateway(config).use(routes).listen()`) or start it with the `wsgate` command.
 */
export class Gateway {
  readonly logger: Logger;
  /** Counted whether or not they are served (`config.metrics`): embedders may expose `metrics.registry` themselves. */
  readonly metrics: GatewayMetrics;
  /** Read-only views route modules add for the management API and `wsgate ctl <view>` (management/views.ts). */
  readonly views = new ManagementViews();
  /**
   * The open WebSockets, terminated here or proxied, by id: list, get, close, ping, send, and subscribe to
   * opens and closes. Typed as the `ConnectionDirectory` seam (methods on a connection may answer through a
   * promise). Alone, this process's `ConnectionRegistry`, which answers at once; with `store.redis`, a
   * `SharedDirectory` over every node's, which answers this process's connections at once and asks Redis or
   * the holding node for the others'.
   */
  readonly connections: ConnectionDirectory;
  /**
   * Where route modules keep state that must hold across gateways (give it to them as their `store` option):
   * a `RedisStore` when the config has `store.redis`, else this process's `MemoryStore`. `listen()` connects
   * it (a Redis out of reach fails the start, unless `onUnavailable: degraded`), so a route factory keeps it
   * and its routes call it; `close()` closes it, after the route sets' `routes:close`.
   */
  readonly store: Store;
  /**
   * This gateway's name among the nodes sharing `store.redis` (`node.name`, default the host name); `local`
   * without a shared store. Route modules that keep per-node state in a shared store (the SIP registrar's
   * flows) name it with this.
   */
  readonly node: string;
  private readonly openStore: () => Promise<void>;
  /** With `store.redis`: every node's connections, through Redis (connections/shared-directory.ts). */
  private readonly shared: SharedDirectory | undefined;
  /** This process's connections: the hub, keepalive, `req.track()`, and the metrics and logs below use it. */
  private readonly registry: ConnectionRegistry;
  private readonly mounted: Routes<any>[] = [];
  /** Route sets a reload replaced: told of the shutdown too, for what they still hold. */
  private readonly retiredSets = new Set<Routes<any>>();
  private readonly env: { myself: HostMatcher; logger: Logger; realIp: RealIpResolver | undefined; connections: ConnectionRegistry };
  private readonly hub: WebSocketHub;
  private readonly dispatcher: RequestDispatcher;
  private listeners: RunningListener[] = [];
  private closing: Promise<void> | undefined;
  private readonly withTicketKeys: (c: ListenerCredentials | undefined) => ListenerCredentials | undefined;

  constructor(
    private current: GatewayConfig,
    options: GatewayOptions = {},
  ) {
    const config = current;
    const ticketKeys = options.tlsTicketKeys;
    this.withTicketKeys = (c) => (c === undefined || ticketKeys === undefined ? c : { ...c, ticketKeys });
    this.registry = new ConnectionRegistry((options.workerIndex ?? 0) * WORKER_ID_SPAN);
    this.logger = options.logger ?? createLogger(config.log);
    this.shared = config.store
      ? new SharedDirectory(this.registry, {
          ...config.store.redis,
          ...(config.node?.name !== undefined ? { node: config.node.name } : {}),
          ...(config.node?.heartbeat !== undefined ? { heartbeat: config.node.heartbeat } : {}),
          worker: options.workerIndex ?? 0,
          logger: this.logger,
          // On the store's connection: a turn's store calls and directory writes go to Redis in one write.
          connection: () => (this.store instanceof RedisStore ? this.store.connection() : undefined),
        })
      : undefined;
    this.connections = this.shared ?? this.registry;
    this.node = this.shared?.node ?? 'local';
    this.env = {
      myself: new HostMatcher(ownNames(config, []), []),
      logger: this.logger,
      realIp: config.realIp ? new RealIpResolver(config.realIp) : undefined,
      connections: this.registry,
    };
    this.metrics = new GatewayMetrics(this.registry);
    ({ store: this.store, open: this.openStore } = configuredStore(config.store, this.logger, this.metrics.registry));
    // One place counts and logs every WebSocket's life, terminated or proxied: this process's, as its metrics are.
    this.registry.subscribe({
      opened: (c) => {
        this.metrics.opened(this.registry.size);
        if (this.logger.isLevelEnabled('info')) this.logger.info({ conn: c.id, kind: c.kind, client: `${c.remoteAddress}:${c.remotePort}`, protocol: c.protocol, path: c.path }, 'websocket opened');
      },
      closed: (c, info) => {
        this.metrics.closed(info.by, info.code);
        if (!this.logger.isLevelEnabled('info')) return;
        const seconds = (Date.now() - c.createdAt) / 1000;
        this.logger.info({ conn: c.id, kind: c.kind, client: `${c.remoteAddress}:${c.remotePort}`, ...info, seconds, ...c.counts() }, 'websocket closed');
      },
    });
    this.hub = new WebSocketHub(config, this.logger, this.registry, this.metrics);
    this.dispatcher = new RequestDispatcher(this.env as RequestEnv, this.hub, this.metrics);
    this.dispatcher.routeTimeoutMs = Math.round(config.limits.routeTimeout * 1000);
    if (config.accessLog) this.dispatcher.accessLog = new AccessLog(config.accessLog.path, config.accessLog.format);
  }

  /** The config in force (a reload replaces it). */
  get config(): GatewayConfig {
    return this.current;
  }

  /** Mount routes (one set, or a list in order) after those already mounted: requests reach them in mount order. */
  use(routes: Routes<any> | readonly Routes<any>[]): this {
    if (isRoutes(routes)) this.mounted.push(routes);
    else this.mounted.push(...(routes as readonly Routes<any>[]));
    this.resolveRoutes();
    return this;
  }

  /** Replace every mounted route set at once (a reload): requests already in a route finish with the old one. */
  setRoutes(routes: readonly Routes<any>[]): this {
    this.mounted.splice(0, this.mounted.length, ...routes);
    this.resolveRoutes();
    return this;
  }

  /** Every event route of the table (script/event-routes.ts) into one array, for those that fire it. */
  private resolveRoutes(): void {
    const resolved = resolveEventRoutes(this.mounted);
    this.dispatcher.routes = resolved['http:request'];
    this.hub.setRoutes(resolved);
  }

  /**
   * Connect the store (`store.redis`: a Redis out of reach rejects with `WSGATE_STORE_UNAVAILABLE` naming the
   * URL, unless degraded) and join the shared connection directory (a `node.name` another live gateway has is
   * refused with `WSGATE_CONFIG_INVALID`), then bind every listener; if one fails, those already bound are
   * closed again and the error says which and why.
   */
  async listen(): Promise<void> {
    await this.openStore();
    // A directory that cannot start (Redis, a node name in use) leaves no store connection behind.
    await this.shared?.start().catch(async (err: unknown) => {
      await this.store.close().catch(() => undefined);
      throw err;
    });
    const started: RunningListener[] = [];
    try {
      for (const [index, listener] of this.config.listeners.entries()) {
        const credentials = listener.tls ? await resolveTlsCredentials(listener, this.config, this.logger) : undefined;
        started.push(await startListener(index, listener, this.config.limits, this.withTicketKeys(credentials), this.dispatcher, this.logger));
      }
    } catch (err) {
      await Promise.all(started.map((l) => l.close()));
      await this.shared?.stop();
      throw err;
    }
    this.listeners = started;
    this.env.myself = new HostMatcher(
      ownNames(this.config, started.map((l) => l.host)),
      started.map((l) => l.info.port),
    );
    this.hub.start();
  }

  /**
   * Reload without dropping connections: takes a config validated by the caller and the route sets loaded
   * from its script. Everything that can fail (certificates, new listeners' ports) is done first; if any of
   * it fails, nothing has changed and the error says why. Then: routes swapped, certificates (the default
   * and the per-host SNI ones) and limits updated on the listeners kept, new listeners open, removed ones stop accepting (their open WebSockets
   * stay), keepalive and the access log follow the new config. Open WebSockets are never touched.
   */
  async reload(config: GatewayConfig, routes: readonly Routes<any>[]): Promise<void> {
    if (this.closing) throw new WsgateError('WSGATE_API_MISUSE', 'reload(): the gateway is shutting down');
    const byKey = new Map(this.listeners.map((l, i) => [listenerKey(this.current.listeners[i]!), l]));
    const credentials = await Promise.all(config.listeners.map((l) => (l.tls ? resolveTlsCredentials(l, config, this.logger) : undefined)));
    // Opened before the commit: a path that cannot be opened refuses the reload, as at start.
    const accessLog = config.accessLog ? new AccessLog(config.accessLog.path, config.accessLog.format) : undefined;
    const next: RunningListener[] = [];
    const opened: RunningListener[] = [];
    // The kept TLS listeners' new certificates, made into contexts now, swapped in at the commit.
    const newCertificates: Array<() => void> = [];
    try {
      for (const [index, listener] of config.listeners.entries()) {
        const kept = byKey.get(listenerKey(listener));
        if (kept) {
          byKey.delete(listenerKey(listener));
          next.push(kept);
          const tls = this.withTicketKeys(credentials[index]);
          if (tls) newCertificates.push(kept.prepareCredentials(tls));
        } else {
          const l = await startListener(index, listener, config.limits, this.withTicketKeys(credentials[index]), this.dispatcher, this.logger);
          opened.push(l);
          next.push(l);
        }
      }
    } catch (err) {
      await Promise.all([...opened.map((l) => l.close()), accessLog?.close()]);
      throw err;
    }
    // Commit: nothing below can fail.
    for (const l of next) if (!opened.includes(l)) applyLimits(l.server, config.limits);
    for (const swap of newCertificates) swap();
    for (const removed of byKey.values()) void removed.close();
    if (JSON.stringify(config.store) !== JSON.stringify(this.current.store)) {
      this.logger.warn({}, 'the store section changed: a reload keeps the store in use; restart to change it');
    }
    this.current = config;
    this.listeners = next;
    const retired = this.mounted.filter((r) => !routes.includes(r));
    this.setRoutes(routes);
    await this.retire(retired, 'reload', config.shutdown.grace);
    // What they left running (tunnels kept across the reload) must still end at shutdown.
    for (const r of retired) this.retiredSets.add(r);
    this.hub.reconfigure(config);
    this.env.realIp = config.realIp ? new RealIpResolver(config.realIp) : undefined;
    this.env.myself = new HostMatcher(ownNames(config, next.map((l) => l.host)), next.map((l) => l.info.port));
    this.dispatcher.routeTimeoutMs = Math.round(config.limits.routeTimeout * 1000);
    const oldLog = this.dispatcher.accessLog;
    this.dispatcher.accessLog = accessLog;
    void oldLog?.close();
    this.logger.info({ listeners: next.length, opened: opened.length, removed: byKey.size, connections: this.registry.size }, 'reloaded');
  }

  /** Runs the `routes:close` route of each retired set, at most `grace` seconds; a failure is logged. */
  private async retire(sets: readonly Routes<any>[], reason: 'reload' | 'shutdown', grace: number): Promise<void> {
    const closing = sets.flatMap((r) => {
      const close = r.handlers['routes:close'];
      if (!close) return [];
      return [
        Promise.resolve()
          .then(() => close(reason, grace))
          .catch((err: unknown) => this.logger.error({ route: r.name, reason, err }, 'routes:close threw')),
      ];
    });
    if (closing.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, grace * 1000)));
    await Promise.race([Promise.all(closing), late]);
    clearTimeout(timer);
  }

  /**
   * Opens the log files again at their paths, as after log rotation (the `wsgate` command's SIGUSR1, as
   * nginx's); resolves with their paths.
   * @throws WsgateError when one cannot be opened; the file in use stays in use.
   */
  reopenLogs(): string[] {
    const log = this.dispatcher.accessLog;
    if (log === undefined || log.path === '-') return [];
    log.reopen();
    return [log.path];
  }

  /** Kamailio's ws.disable / ws.enable: while disabled, new WebSockets get 503 and open ones stay. */
  setWebSocketsEnabled(enabled: boolean): void {
    if (this.closing) return;
    this.dispatcher.refuseWebSockets = !enabled;
    this.logger.info({ enabled }, enabled ? 'websockets enabled' : 'websockets disabled');
  }

  get webSocketsEnabled(): boolean {
    return !this.dispatcher.refuseWebSockets;
  }

  addresses(): ListenerAddress[] {
    return this.listeners.map((l) => ({ name: l.info.name, host: l.host, port: l.info.port, tls: l.info.tls }));
  }

  /**
   * Graceful shutdown: stop accepting, close every WebSocket with 1001 Going Away, wait up to `grace`
   * seconds for them (and HTTP requests in flight) to finish, then drop whatever is left.
   */
  close(options: { grace?: number } = {}): Promise<void> {
    this.closing ??= this.shutdown(options.grace ?? this.config.shutdown.grace);
    return this.closing;
  }

  private async shutdown(grace: number): Promise<void> {
    this.dispatcher.refuseWebSockets = true;
    const stopped = Promise.all(this.listeners.map((l) => l.close()));
    this.hub.closeAll(1001, 'Going Away');
    await this.retire([...this.mounted, ...this.retiredSets], 'shutdown', grace);
    const deadline = Date.now() + grace * 1000;
    let drained = false;
    // The listeners wait for client sockets only: a proxied WebSocket's upstream side may still be closing.
    const emptied = new Promise<void>((resolve) => {
      const check = () => void (this.registry.size === 0 && (unsubscribe(), resolve()));
      const unsubscribe = this.registry.subscribe({ closed: check });
      check();
    });
    const all = Promise.all([stopped, emptied]).then(() => (drained = true));
    while (!drained && Date.now() < deadline) {
      await Promise.race([all, sleep(Math.min(50, Math.max(1, deadline - Date.now())))]);
    }
    if (!drained) {
      this.logger.warn({ open: this.registry.size }, 'shutdown grace period over; dropping what is left');
      this.hub.terminateAll('shutdown');
      for (const l of this.listeners) l.server.closeAllConnections();
      // A dropped socket reports its close a turn later: wait for it (bounded), so that every connection
      // gets its `websocket closed` line and access-log line before the log closes and the process exits.
      await Promise.all([stopped, Promise.race([emptied, sleep(DROPPED_CLOSE_MS)])]);
      if (this.registry.size > 0) this.logger.warn({ open: this.registry.size }, 'connections still open after they were dropped');
    }
    this.hub.stop();
    await this.shared?.stop().catch((err: unknown) => this.logger.error({ err }, 'leaving the connection directory failed'));
    await this.store.close().catch((err: unknown) => this.logger.error({ err }, 'closing the store failed'));
    await this.dispatcher.accessLog?.close();
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** How long a shutdown waits, after dropping what the grace period left, for those drops to be reported. */
const DROPPED_CLOSE_MS = 1000;

/** A listener is "the same" across a reload when its name, address and kind (TLS or not) are. */
function listenerKey(l: ListenerConfig): string {
  return `${l.name}|${l.host}|${l.port}|${l.tls ? 'tls' : 'tcp'}`;
}

/** The limits node reads per connection: set on a kept server, they apply to its next connections. */
function applyLimits(server: Server, limits: LimitsConfig): void {
  server.headersTimeout = Math.round(limits.headerTimeout * 1000);
  server.keepAliveTimeout = Math.round(limits.keepAliveTimeout * 1000);
  server.maxConnections = limits.maxConnections;
  (server as Server & { maxHeaderSize: number }).maxHeaderSize = limits.maxHeaderSize;
  setTlsHandshakeTimeout(server, tlsHandshakeTimeoutMs(limits));
}
