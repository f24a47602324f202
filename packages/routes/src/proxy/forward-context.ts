import type http from 'node:http';
import type { WebSocketServer } from 'ws';
import type { NodeSource } from '../upstream/node-picker.js';
import type { HeaderValue } from '../upstream/options.js';
import type { MessageHook } from '../upstream/relay/message-hook.js';
import type { LivenessSettings } from '../upstream/relay/liveness.js';
import type { TunnelRegistry } from '../upstream/relay/tunnel-registry.js';
import type { PoolSettings } from '../upstream/settings.js';

/** What the relays use of a pool. */
export interface PoolResources extends NodeSource {
  readonly agent: http.Agent;
  readonly tunnels: TunnelRegistry;
  /** Retired for a shutdown: new upgrades are refused. */
  readonly shuttingDown: boolean;
  /** Idle timeout and pings of this pool's tunnels. */
  readonly liveness: LivenessSettings;
  /** The `ws` server that completes client handshakes in message mode (made on first use). */
  messageServer(): WebSocketServer;
}

/** One forward: the pool, its settings, and the route's variations for this request (`pool.with()`). */
export interface ForwardContext {
  readonly pool: PoolResources;
  readonly settings: PoolSettings;
  /** The request target sent upstream; when undefined, the client's in origin-form with its normalised path (`req.target`). */
  readonly url: string | undefined;
  readonly setHeaders: readonly (readonly [string, string, HeaderValue])[] | undefined;
  readonly onMessage: MessageHook | undefined;
}
