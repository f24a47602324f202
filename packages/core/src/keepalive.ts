import type { KeepaliveConfig } from './config/types.js';
import type { Connection } from './connection.js';
import type { ConnectionRegistry } from './registry.js';

/**
 * Kamailio's keepalive for terminated WebSockets. `ping`: every `interval` seconds each connection gets a
 * ping, and one whose pong has not come `timeout` seconds later is dropped. `pong`: unsolicited pongs only
 * (RFC 6455 §5.5.3), which keep middleboxes awake but detect nothing.
 *
 * One timer sweeps every connection, rather than a timer per connection: idle connections stay cheap.
 */
export class Keepalive {
  private timer: NodeJS.Timeout | undefined;
  private lastRound = 0;

  constructor(
    private readonly registry: ConnectionRegistry,
    private readonly config: KeepaliveConfig,
  ) {}

  start(): void {
    if (this.config.mechanism === 'none' || this.timer) return;
    const tick = this.config.mechanism === 'ping' ? Math.min(this.config.interval, this.config.timeout) : this.config.interval;
    this.lastRound = Date.now();
    this.timer = setInterval(() => this.sweep(Date.now()), Math.max(tick * 1000, 20));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** A pong arrived: the peer is alive. */
  static pongReceived(conn: { pingSentAt: number }): void {
    conn.pingSentAt = 0;
  }

  private sweep(now: number): void {
    const { mechanism, interval, timeout } = this.config;
    const round = now - this.lastRound >= interval * 1000 - 5;
    if (round) this.lastRound = now;
    for (const entry of this.registry) {
      // Proxied tunnels are kept alive by their proxy's own pings, end to end.
      if (entry.kind !== 'terminated') continue;
      const conn = entry as Connection<any>;
      if (mechanism === 'ping' && conn.pingSentAt !== 0) {
        if (now - conn.pingSentAt >= timeout * 1000 - 5) conn.terminate('keepalive timeout');
        continue;
      }
      if (!round || conn.ws.readyState !== 1) continue;
      if (mechanism === 'ping') {
        conn.pingSentAt = now;
        conn.ws.ping();
      } else {
        conn.ws.pong();
      }
    }
  }
}
