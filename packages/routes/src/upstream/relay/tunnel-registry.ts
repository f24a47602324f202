import type { CloseInfo, ProxiedConnection, ProxiedRequest, TunnelControls } from '@wsgate/core';
import type { Liveness, LivenessSettings } from './liveness.js';

/** The server a tunnel's client connected to (`socket.server`, set by node on accepted sockets). */
export interface TunnelListener {
  readonly listening: boolean;
}

/** What the registry needs of a tunnel. */
export interface Tunnel extends Liveness {
  /** Where the client came in (see the sweep's fallback below). */
  readonly listener: TunnelListener | undefined;
  /** Its entry in the gateway's connection directory once `track()` listed it; its traffic is counted there. */
  entry: ProxiedConnection | undefined;
  /** How the tunnel ended, for the directory's subscribers. */
  readonly endInfo: CloseInfo;
  /** The gateway or pool is closing: 1001 Going Away both ways (a FIN each way for a tunnel that is not a WebSocket). */
  shutdown(): void;
  /** Raw mode: the tunnel is a WebSocket, whose frames are to be followed from its first byte on. */
  followFrames?(): void;
}

/** The listening server of an accepted socket, if node recorded one. */
export function listenerOf(socket: object): TunnelListener | undefined {
  return (socket as { server?: TunnelListener }).server;
}

/**
 * The open tunnels of one pool or TCP relay, and the one place a tunnel is registered: one sweep timer
 * checks their idle time and pings (cheaper than a timer per socket), `closeAll()` ends them when the owner
 * shuts down, and a WebSocket tunnel is listed in the gateway's connection directory through `track()` and
 * taken out of it by `delete()`. The timer runs only while tunnels are open — also after the owner was
 * retired by a reload, since tunnels outlive a reload and still need their idle timeouts.
 *
 * This set is not a second directory (no ids, no lookups, nothing lists it): it is the sweep's work list and
 * the owner's. The directory cannot serve either: it holds every connection of the gateway, terminated ones
 * and other pools' tunnels too, and not the TCP sessions or non-WebSocket upgrades this set also holds.
 */
export class TunnelRegistry {
  private readonly tunnels = new Set<Tunnel>();
  private timer: NodeJS.Timeout | undefined;
  private readonly periodMs: number;
  private emptied: (() => void)[] = [];

  constructor(settings: LivenessSettings) {
    const shortest = Math.min(settings.idleMs, settings.pingIntervalMs ?? Infinity, settings.pingIntervalMs ? settings.pingTimeoutMs : Infinity);
    // A quarter of the shortest period: a timeout fires at most 25% late, and sweeps stay rare.
    this.periodMs = Math.max(25, Math.min(1000, shortest / 4));
  }

  get size(): number {
    return this.tunnels.size;
  }

  add(tunnel: Tunnel): void {
    this.tunnels.add(tunnel);
    tunnel.sweep(Date.now());
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.sweep(), this.periodMs);
      this.timer.unref();
    }
  }

  /**
   * Lists a tunnel whose WebSocket handshake is done in the gateway's connection directory (`req.track()`):
   * listed, closed by id, revoked and counted per client with the gateway's own WebSockets, until `delete()`.
   */
  track(tunnel: Tunnel, req: ProxiedRequest<any>, controls: TunnelControls): void {
    tunnel.followFrames?.();
    tunnel.entry = req.track(controls);
  }

  /** The tunnel is gone: out of this set and, if it was listed, out of the directory, its end told there. */
  delete(tunnel: Tunnel): void {
    this.tunnels.delete(tunnel);
    tunnel.entry?.ended(tunnel.endInfo);
    if (this.tunnels.size > 0) return;
    if (this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
    const waiting = this.emptied;
    this.emptied = [];
    for (const resolve of waiting) resolve();
  }

  /** Ends every tunnel (they leave the registry as their sockets close). */
  closeAll(): void {
    for (const t of [...this.tunnels]) t.shutdown();
  }

  /** Resolves once no tunnel is open (at once when none is). */
  whenEmpty(): Promise<void> {
    if (this.tunnels.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.emptied.push(resolve));
  }

  private sweep(): void {
    const now = Date.now();
    for (const t of this.tunnels) {
      // Fallback for tunnels nobody will shut down: those of a route set without a `routes:close` route (an
      // embedder's), and those of a pool retired by an earlier reload (the gateway tells only the mounted
      // route sets about a shutdown). When their listener stops listening the gateway is closing, and it
      // would wait for these upgraded sockets for ever: node's server.close() counts them, and its
      // closeAllConnections() does not reach them. The price: a listener removed by a reload ends its
      // proxied tunnels too, within a sweep period, where terminated WebSockets would stay.
      if (t.listener !== undefined && !t.listener.listening) t.shutdown();
      else t.sweep(now);
    }
  }
}
