import type { Liveness, LivenessSettings } from './liveness.js';

/** The server a tunnel's client connected to (`socket.server`, set by node on accepted sockets). */
export interface TunnelListener {
  readonly listening: boolean;
}

/** What the registry needs of a tunnel. */
export interface Tunnel extends Liveness {
  /** Where the client came in; when it stops listening, the gateway is going away and so is the tunnel. */
  readonly listener: TunnelListener | undefined;
  /** The gateway or pool is closing: 1001 in message mode, FIN both ways in raw mode. */
  shutdown(): void;
}

/** The listening server of an accepted socket, if node recorded one. */
export function listenerOf(socket: object): TunnelListener | undefined {
  return (socket as { server?: TunnelListener }).server;
}

/**
 * The open tunnels of one pool: one sweep timer checks their idle time and pings (cheaper than a timer per
 * socket), and `closeAll()` ends them when the pool closes. The timer runs only while tunnels are open.
 */
export class TunnelRegistry {
  private readonly tunnels = new Set<Tunnel>();
  private timer: NodeJS.Timeout | undefined;
  private readonly periodMs: number;

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

  delete(tunnel: Tunnel): void {
    this.tunnels.delete(tunnel);
    if (this.tunnels.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Ends every tunnel (they leave the registry as their sockets close). */
  closeAll(): void {
    for (const t of [...this.tunnels]) t.shutdown();
  }

  private sweep(): void {
    const now = Date.now();
    for (const t of this.tunnels) {
      // The gateway is shutting down (or this listener was removed): node's server would otherwise wait for
      // these upgraded sockets forever, as they are not connections its HTTP machinery can close.
      if (t.listener !== undefined && !t.listener.listening) t.shutdown();
      else t.sweep(now);
    }
  }
}
