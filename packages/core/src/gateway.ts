import { hostname, networkInterfaces } from 'node:os';
import type { GatewayConfig } from './config/types.js';
import { RequestDispatcher } from './dispatch.js';
import { HostMatcher } from './host-matcher.js';
import { startListener, type RunningListener } from './listener.js';
import { createLogger, type Logger } from './logger.js';
import type { RequestRoute } from './pipeline.js';
import type { ConnectionRegistry } from './registry.js';
import type { RequestEnv } from './request-context.js';
import type { Routes } from './routes.js';
import { resolveTlsCredentials } from './tls/credentials.js';
import { WebSocketHub, type WebSocketRoutes } from './websockets.js';

export interface GatewayOptions {
  /** Where the gateway logs; a JSON-lines logger at the config's level by default. */
  logger?: Logger;
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
  private readonly mounted: Routes<any>[] = [];
  private readonly env: { myself: HostMatcher; logger: Logger };
  private readonly hub: WebSocketHub;
  private readonly dispatcher: RequestDispatcher;
  private listeners: RunningListener[] = [];
  private closing: Promise<void> | undefined;

  constructor(
    readonly config: GatewayConfig,
    options: GatewayOptions = {},
  ) {
    this.logger = options.logger ?? createLogger({ level: config.log.level });
    this.env = { myself: new HostMatcher(ownNames(config, []), []), logger: this.logger };
    this.hub = new WebSocketHub(config, this.logger);
    this.dispatcher = new RequestDispatcher(this.env as RequestEnv, this.hub);
  }

  /** The WebSockets this gateway terminated and still holds open. */
  get connections(): ConnectionRegistry {
    return this.hub.registry;
  }

  /** Mount routes after those already mounted: requests reach them in mount order. */
  use(routes: Routes<any>): this {
    this.mounted.push(routes);
    const named = <K extends keyof Routes['handlers']>(key: K) =>
      this.mounted.flatMap((r) => (r.handlers[key] ? [{ name: r.name, run: r.handlers[key]! }] : []));
    this.dispatcher.routes = named('http:request') as RequestRoute[];
    this.hub.setRoutes({
      open: named('websocket:open'),
      message: named('websocket:message'),
      closed: named('websocket:closed'),
    } as WebSocketRoutes);
    return this;
  }

  /** Bind every listener; if one fails, those already bound are closed again and the error says which and why. */
  async listen(): Promise<void> {
    const started: RunningListener[] = [];
    try {
      for (const [index, listener] of this.config.listeners.entries()) {
        const credentials = listener.tls ? await resolveTlsCredentials(listener, this.config) : undefined;
        started.push(await startListener(index, listener, this.config.limits, credentials, this.dispatcher, this.logger));
      }
    } catch (err) {
      await Promise.all(started.map((l) => l.close()));
      throw err;
    }
    this.listeners = started;
    this.env.myself = new HostMatcher(
      ownNames(this.config, started.map((l) => l.host)),
      started.map((l) => l.info.port),
    );
    this.hub.start();
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
    const deadline = Date.now() + grace * 1000;
    let drained = false;
    const all = stopped.then(() => (drained = true));
    while (!drained && Date.now() < deadline) {
      await Promise.race([all, sleep(Math.min(50, Math.max(1, deadline - Date.now())))]);
    }
    if (!drained) {
      this.logger.warn({ open: this.connections.size }, 'shutdown grace period over; dropping what is left');
      this.hub.terminateAll('shutdown');
      for (const l of this.listeners) l.server.closeAllConnections();
      await stopped;
    }
    this.hub.stop();
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The names `isMyself()` accepts: configured ones, the machine's, and the listeners' addresses. */
function ownNames(config: GatewayConfig, hosts: readonly string[]): string[] {
  const names = new Set<string>(config.names);
  names.add('localhost');
  names.add(hostname());
  for (const host of hosts) {
    if (host === '0.0.0.0' || host === '::' || host === '') {
      for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) names.add(a.address);
    } else {
      names.add(host);
    }
  }
  return [...names];
}
