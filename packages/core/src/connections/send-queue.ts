import type { Socket } from 'node:net';
import type { SendQueueConfig } from '../config/types.js';
import type { Logger } from '../observe/logger.js';
import type { GatewayMetrics } from '../observe/metrics.js';
import type { Connection, SendLimit } from './connection.js';

/**
 * 1008 Policy Violation, not 1013 Try Again Later: 1013 speaks of the server's own state (overloaded) and
 * invites the client straight back; here the gateway is fine and this one client broke its rule, reading
 * less than it asked for, and would do the same again.
 */
export const SEND_QUEUE_CLOSE_CODE = 1008;
export const SEND_QUEUE_CLOSE_REASON = 'send queue over limit';

/** A connection over the pause mark: since when (ms), and the listener that resumes it once its queue drains. */
interface Over {
  readonly since: number;
  readonly resume: () => void;
}

/**
 * What one hub's terminated WebSockets may be owed: bytes queued for the client and not yet written
 * (`limits.sendQueue`; Kamailio's `tcp_conn_wq_max` and `tcp_send_timeout`). `Connection.send()` compares the
 * connection's queued bytes with `pause`, one compare per message; everything here runs only for a connection
 * over it. Over `pause`, the gateway stops reading from the client (a client that sends but never reads makes
 * the routes' answers pile up) and reads again once the queue has drained. Past `close`, or over `pause` for
 * `timeout` seconds, it drops the connection and records it as closed with 1008: a close frame would wait
 * behind the bytes the client is not reading.
 */
export class SendQueue implements SendLimit {
  pause = 0;
  close = 0;
  private timeoutMs = 0;
  private readonly over = new Map<Connection<any>, Over>();
  /** Dropped here, until the hub reports their close. */
  private readonly dropped = new Set<Connection<any>>();
  // One timer for every connection over the mark, running only while there is one (no timer per message).
  private timer: NodeJS.Timeout | undefined;

  constructor(
    config: SendQueueConfig,
    private readonly logger: Logger,
    private readonly metrics: GatewayMetrics,
  ) {
    this.configure(config);
  }

  /** New limits apply at once, to the open connections too (a reload). */
  configure(config: SendQueueConfig): void {
    this.pause = config.pause;
    this.close = config.close;
    this.timeoutMs = config.timeout * 1000;
    if (this.timer) {
      this.stop();
      this.startSweep();
    }
  }

  /** @internal `Connection.send()` left `queued` bytes owed, more than `pause`. Answers false: hold off. */
  overPause(conn: Connection<any>, queued: number): false {
    if (queued > this.close) {
      this.drop(conn, 'close', queued);
    } else if (!this.over.has(conn)) {
      const socket = socketOf(conn);
      if (!socket) return false;
      const resume = () => this.drained(conn, socket);
      this.over.set(conn, { since: Date.now(), resume });
      conn.ws.pause();
      socket.once('drain', resume);
      this.startSweep();
    }
    return false;
  }

  /**
   * @internal The hub reports a close: the connection is forgotten, and the code to record is returned (1008
   * for one dropped here, which ws reports as 1006). Two size checks for every other connection.
   */
  ended(conn: Connection<any>, code: number): number {
    if (this.over.size !== 0) this.forget(conn);
    return this.dropped.size !== 0 && this.dropped.delete(conn) ? SEND_QUEUE_CLOSE_CODE : code;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private drained(conn: Connection<any>, socket: Socket): void {
    // Messages still being compressed count too; they reach the socket, and its next drain, soon.
    if (conn.ws.bufferedAmount > this.pause) {
      socket.once('drain', this.over.get(conn)!.resume);
      return;
    }
    this.over.delete(conn);
    conn.ws.resume();
  }

  private startSweep(): void {
    if (this.timer) return;
    // Late by at most a tenth of the timeout, and a second.
    this.timer = setInterval(() => this.sweep(Date.now()), Math.max(Math.min(this.timeoutMs / 10, 1000), 20));
    this.timer.unref();
  }

  private sweep(now: number): void {
    for (const [conn, over] of this.over) {
      const queued = conn.ws.bufferedAmount;
      if (now - over.since >= this.timeoutMs) this.drop(conn, 'timeout', queued);
      // Under the mark with no drain to come (only compressed messages were over it): read again.
      else if (queued <= this.pause && socketOf(conn)?.writableNeedDrain === false) this.forget(conn, true);
    }
    if (this.over.size === 0) this.stop();
  }

  private forget(conn: Connection<any>, resume = false): void {
    const over = this.over.get(conn);
    if (!over) return;
    this.over.delete(conn);
    socketOf(conn)?.removeListener('drain', over.resume);
    if (resume) conn.ws.resume();
  }

  private drop(conn: Connection<any>, limit: 'close' | 'timeout', queued: number): void {
    const since = this.over.get(conn)?.since;
    this.forget(conn);
    this.dropped.add(conn);
    this.metrics.sendQueueClosed(limit);
    this.logger.warn(
      {
        conn: conn.id,
        limit,
        queued,
        seconds: since === undefined ? 0 : (Date.now() - since) / 1000,
        pause: this.pause,
        close: this.close,
        timeout: this.timeoutMs / 1000,
      },
      'websocket send queue over limit: closed',
    );
    conn.terminate(SEND_QUEUE_CLOSE_REASON);
  }
}

function socketOf(conn: Connection<any>): Socket | undefined {
  const socket = (conn.ws as unknown as { _socket?: Socket })._socket;
  return socket && !socket.destroyed ? socket : undefined;
}
