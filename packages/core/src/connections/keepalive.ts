import type { KeepaliveConfig } from '../config/types.js';
import type { Connection } from './connection.js';
import type { ConnectionRegistry } from './registry.js';

/**
 * Kamailio's keepalive for terminated WebSockets. A connection whose peer has been silent for `interval`
 * seconds (no message, no pong; what the gateway sends does not count) gets a keepalive. `ping`: a ping, and
 * a connection whose pong has not come `timeout` seconds later is dropped. `pong`: an unsolicited pong
 * (RFC 6455 §5.5.3), which keeps middleboxes awake but detects nothing.
 *
 * One timer sweeps every connection, rather than a timer per connection: idle connections stay cheap. Each
 * connection falls due by its own clock (its open, its peer's last sign of life), so keepalives spread out
 * as the connections did, instead of going to all of them at once.
 */
export class Keepalive {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly registry: ConnectionRegistry,
    private readonly config: KeepaliveConfig,
  ) {}

  start(): void {
    if (this.config.mechanism === 'none' || this.timer) return;
    // Late by at most a tenth of the interval (a second at most), or of the timeout.
    const tick = Math.min(this.config.interval / 10, 1, this.config.mechanism === 'ping' ? this.config.timeout / 10 : Infinity);
    this.timer = setInterval(() => this.sweep(Date.now()), Math.max(tick * 1000, 20));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** A pong arrived: the peer is alive. */
  static pongReceived(conn: { pingSentAt: number; aliveAt: number }): void {
    conn.pingSentAt = 0;
    conn.aliveAt = Date.now();
  }

  private sweep(now: number): void {
    const { mechanism } = this.config;
    const interval = this.config.interval * 1000;
    const timeout = this.config.timeout * 1000;
    for (const entry of this.registry) {
      // Proxied tunnels are kept alive by their proxy's own pings, end to end.
      if (entry.kind !== 'terminated') continue;
      const conn = entry as Connection<any>;
      if (mechanism === 'ping' && conn.pingSentAt !== 0) {
        if (now - conn.pingSentAt >= timeout) conn.terminate('keepalive timeout');
        continue;
      }
      if (now - conn.aliveAt < interval || conn.ws.readyState !== 1) continue;
      conn.aliveAt = now;
      if (mechanism === 'ping') {
        conn.pingSentAt = now;
        conn.ws.ping();
      } else {
        conn.ws.pong();
      }
    }
  }
}
