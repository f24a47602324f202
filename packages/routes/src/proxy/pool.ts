/**
 * `upstreams()` and `upstream()`: the targets of `req.proxy()` (nginx's `upstream {}` block with the
 * `proxy_*` directives of its locations). A pool forwards WebSocket upgrades (raw tunnel, or message mode
 * with `onMessage`) and plain HTTP to its nodes, chosen by its balancer, with passive and active health.
 */
import type { IncomingMessage } from 'node:http';
import { WebSocketServer } from 'ws';
import { textReply, writeReply, type Carrier, type ForwardResult, type ProxyTarget, type ProxiedRequest } from '@wsgate/core';
import type { SelectionContext } from '../upstream/balance/balancer.js';
import { HeaderSyntaxError, readClientOffer, type ClientOffer } from './client-offer.js';
import type { ForwardContext, PoolResources } from './forward-context.js';
import { HealthChecker } from '../upstream/health-check.js';
import type { RetireReason } from '../upstream/lifecycle.js';
import { forwardHttp } from './http-forward.js';
import { forwardMessages, kChosenProtocol } from './message-forward.js';
import { UpstreamNode } from '../upstream/node.js';
import { invalidOption, knownKeys } from '../kit/option-checks.js';
import type { ForwardOptions, UpstreamsOptions } from '../upstream/options.js';
import type { LivenessSettings } from '../upstream/relay/liveness.js';
import { TunnelRegistry } from '../upstream/relay/tunnel-registry.js';
import { resolvePoolSettings, resolveSetHeaders, type PoolSettings } from '../upstream/settings.js';
import { UpstreamAgent } from './upstream-agent.js';
import { forwardUpgrade } from './upgrade-forward.js';
import { upgradeRefusal } from './upgrade-policy.js';

/** A proxy target that can be varied per request (`locations()` rewrites through it). */
export interface UpstreamTarget extends ProxyTarget {
  /** The same upstreams with a rewritten target, extra headers or a message hook for this request. */
  with(options: ForwardOptions): UpstreamTarget;
}

/** A node's state, for status pages and tests. */
export interface NodeStatus {
  readonly name: string;
  readonly url: string;
  /** Chosen now if the balancer picks it: not down, healthy, not out after failures. */
  readonly available: boolean;
  readonly healthy: boolean;
  readonly down: boolean;
  /** Requests in flight and tunnels open. */
  readonly active: number;
}

export class UpstreamPool implements UpstreamTarget, PoolResources {
  /** The options as checked, with defaults. */
  readonly settings: PoolSettings;
  readonly nodes: readonly UpstreamNode[];
  /** @internal The keep-alive pool of plain HTTP connections. */
  readonly agent: UpstreamAgent;
  /** @internal Open tunnels (idle timeout, pings, closing). */
  readonly tunnels: TunnelRegistry;
  /** @internal */
  readonly liveness: LivenessSettings;
  private readonly primaries: readonly UpstreamNode[];
  private readonly backups: readonly UpstreamNode[];
  private readonly health: HealthChecker | undefined;
  private wss: WebSocketServer | undefined;
  private readonly plain: ForwardContext;
  private retired: RetireReason | undefined;

  constructor(options: UpstreamsOptions, fn = 'upstreams()') {
    this.settings = resolvePoolSettings(fn, options);
    const s = this.settings;
    this.nodes = s.nodes.map((n, i) => new UpstreamNode(n, i));
    this.primaries = this.nodes.filter((n) => !n.backup);
    this.backups = this.nodes.filter((n) => n.backup);
    this.agent = new UpstreamAgent(s, s.keepAlive);
    this.liveness = { idleMs: s.websocketIdleMs, pingIntervalMs: s.ping?.intervalMs, pingTimeoutMs: s.ping?.timeoutMs ?? 0 };
    this.tunnels = new TunnelRegistry(this.liveness);
    this.plain = { pool: this, settings: s, url: undefined, setHeaders: undefined, onMessage: undefined };
    if (s.health) {
      this.health = new HealthChecker(this.nodes, s.health, s, s.logger);
      this.health.start();
    }
  }

  get nodeCount(): number {
    return this.nodes.length;
  }

  get tries(): number {
    return this.settings.tries;
  }

  /** @internal The balancer's choice among the primaries, else among the backups (nginx `backup`). */
  pick(ctx: SelectionContext): UpstreamNode | undefined {
    const balancer = this.settings.balancer;
    return balancer.select(this.primaries, ctx) ?? (this.backups.length > 0 ? balancer.select(this.backups, ctx) : undefined);
  }

  /** @internal Set by `retire('shutdown')`: new upgrades get 503, as the gateway's own handshakes do. */
  get shuttingDown(): boolean {
    return this.retired === 'shutdown';
  }

  forward(req: ProxiedRequest<any>, message: IncomingMessage, carrier: Carrier): Promise<ForwardResult | void> {
    return forwardWith(this.plain, req, message, carrier);
  }

  with(options: ForwardOptions): UpstreamTarget {
    return variant(this, mergeOptions(this.plain, options));
  }

  /** @internal */
  messageServer(): WebSocketServer {
    this.wss ??= new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      clientTracking: false,
      maxPayload: this.settings.maxMessageSize,
      // The upstream chose first; the client is offered exactly that (or nothing).
      handleProtocols: (offered, req) => {
        const chosen = (req as IncomingMessage & { [kChosenProtocol]?: string })[kChosenProtocol];
        return chosen && offered.has(chosen) ? chosen : false;
      },
    });
    return this.wss;
  }

  /** Each node's state now. */
  status(): NodeStatus[] {
    const now = Date.now();
    return this.nodes.map((n) => n.state(now));
  }

  /** Number of WebSocket tunnels open through this pool. */
  get openTunnels(): number {
    return this.tunnels.size;
  }

  /**
   * Retires the pool; made for the `routes:close` route of the route set that uses it:
   * `'routes:close': (reason) => pool.retire(reason)`.
   *
   * - `'reload'` (a new route set has taken over): health checks stop and idle kept connections close; open
   *   tunnels and requests in flight carry on, idle timeouts and pings included.
   * - `'shutdown'` (the gateway is closing): every tunnel ends now — 1001 Going Away both ways, in raw mode
   *   at a frame boundary of each direction — and new upgrades get 503. Resolves when the tunnels are gone;
   *   a peer that does not answer is cut after 2 s. Plain requests in flight may finish within the gateway's
   *   grace period.
   *
   * Safe to call again: `'shutdown'` after `'reload'` ends what the reload left open.
   */
  async retire(reason: RetireReason): Promise<void> {
    if (this.retired === 'shutdown') return this.tunnels.whenEmpty();
    this.retired = reason;
    this.health?.stop();
    this.agent.retire();
    if (reason === 'reload') return;
    this.tunnels.closeAll();
    await this.tunnels.whenEmpty();
  }

  /**
   * For an owner that is done with the pool (tests, embedders): `retire('shutdown')`, and requests in
   * flight are cut as well.
   */
  async close(): Promise<void> {
    this.agent.destroy();
    await this.retire('shutdown');
  }
}

const SHUTTING_DOWN = textReply(503, 'Service Unavailable', 'The gateway is shutting down', true, { 'Retry-After': '5' });

function forwardWith(fc: ForwardContext, req: ProxiedRequest<any>, message: IncomingMessage, carrier: Carrier): Promise<ForwardResult | void> {
  let offer: ClientOffer;
  try {
    offer = readClientOffer(req, carrier.socket !== undefined);
  } catch (err) {
    if (!(err instanceof HeaderSyntaxError)) throw err;
    req.log.info({ reason: err.message }, 'malformed request header');
    writeReply(carrier, textReply(400, 'Bad Request', err.message, true));
    return Promise.resolve({ status: 400 });
  }
  if (carrier.res) return forwardHttp(fc, req, message, carrier.res, offer);
  const refusal = upgradeRefusal(req, offer, fc.settings.upgrades);
  if (refusal !== undefined) {
    req.log.info({ upgrade: offer.upgrade, status: refusal.status }, 'upgrade refused');
    writeReply(carrier, refusal);
    return Promise.resolve({ status: refusal.status });
  }
  // A tunnel opened now would hold the gateway's shutdown for its whole grace period.
  if (fc.pool.shuttingDown) {
    writeReply(carrier, SHUTTING_DOWN);
    return Promise.resolve({ status: 503 });
  }
  if (fc.onMessage) return forwardMessages(fc, fc.onMessage, req, message, carrier.socket, carrier.head, offer);
  return forwardUpgrade(fc, req, message, carrier.socket, carrier.head, offer);
}

function variant(pool: UpstreamPool, fc: ForwardContext): UpstreamTarget {
  return {
    forward: (req, message, carrier) => forwardWith(fc, req, message, carrier),
    with: (options) => variant(pool, mergeOptions(fc, options)),
  };
}

const FORWARD_KEYS = ['url', 'setHeaders', 'onMessage'];

function mergeOptions(base: ForwardContext, options: ForwardOptions): ForwardContext {
  const o = knownKeys('with()', options, FORWARD_KEYS) as ForwardOptions;
  if (o.url !== undefined && (typeof o.url !== 'string' || !o.url.startsWith('/') || /[\s\0]/.test(o.url))) {
    throw invalidOption('with().url', `expected a request target starting with "/" and without spaces, got ${JSON.stringify(o.url)}`);
  }
  if (o.onMessage !== undefined && typeof o.onMessage !== 'function') throw invalidOption('with().onMessage', 'expected a function (message, tunnel) => verdict');
  const extra = o.setHeaders === undefined ? undefined : resolveSetHeaders('with().setHeaders', o.setHeaders);
  return {
    ...base,
    url: o.url ?? base.url,
    setHeaders: extra === undefined ? base.setHeaders : [...(base.setHeaders ?? []), ...extra],
    onMessage: o.onMessage ?? base.onMessage,
  };
}

/**
 * A pool of upstream servers: `upstreams({ servers: ['wss://10.0.0.1:8443', …], balance: 'ip_hash' })`.
 * @throws {WsgateError} `WSGATE_CONFIG_INVALID` naming the bad option and the fix.
 */
export function upstreams(options: UpstreamsOptions): UpstreamPool {
  return new UpstreamPool(options);
}

/**
 * One upstream server: `upstream('ws://127.0.0.1:9000', { timeouts: { connect: 5 } })`.
 * @throws {WsgateError} `WSGATE_CONFIG_INVALID` naming the bad option and the fix.
 */
export function upstream(url: string, options: Omit<UpstreamsOptions, 'servers' | 'balance'> = {}): UpstreamPool {
  return new UpstreamPool({ ...options, servers: [url] }, 'upstream()');
}
