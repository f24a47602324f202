import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { FromRequest, summarize, type ConnectionEntry, type ConnectionOrigin, type TrafficTotals } from './connection-entry.js';
import type { TrafficCounts } from '../observe/metrics.js';
import { type Attributes } from '../vocabulary.js';

export type { CloseInfo, ConnectionOrigin } from './connection-entry.js';

/**
 * @internal What caps a connection's send queue (`SendQueue`, ./send-queue.ts). The hub's WebSocket class
 * carries it on its prototype (`sendQueue`): nothing per connection.
 */
export interface SendLimit {
  readonly pause: number;
  overPause(conn: Connection<any>, queued: number): false;
}

/**
 * A WebSocket terminated by this gateway (Kamailio's `ws` connection): an id for the registry, the
 * negotiated subprotocol, the facts of the request that opened it, and the means to talk to the peer.
 */
export class Connection<A extends Attributes = Attributes> extends FromRequest<A> implements ConnectionEntry<A> {
  /** On the prototype: nothing per connection. */
  get kind(): 'terminated' {
    return 'terminated';
  }
  readonly createdAt = Date.now();
  /** @internal keepalive: when the unanswered ping went out (0: none outstanding). */
  pingSentAt = 0;
  /**
   * @internal keepalive: when the peer last showed life (a message, a pong) or was last sent a keepalive, ms
   * since the epoch; the open to begin with.
   */
  aliveAt = this.createdAt;
  /** @internal who closed first; remote unless the gateway did. */
  closedBy: 'local' | 'remote' = 'remote';
  /** @internal why the gateway closed it when the close frame carries no reason (terminate). */
  localReason = '';
  /** When a message last went either way (ms since the epoch). */
  lastActivityAt = this.createdAt;
  /** @internal see holdWrites() */
  holding = false;
  private messagesIn = 0;
  private messagesOut = 0;
  private bytesIn = 0;
  private bytesOut = 0;

  constructor(
    readonly id: number,
    /** The underlying `ws` WebSocket, for what this class does not wrap. */
    readonly ws: WebSocket,
    /** The subprotocol's counters, shared by its connections (for the metrics). */
    private readonly traffic: TrafficCounts,
    from: ConnectionOrigin<A>,
  ) {
    super(from);
  }

  /**
   * @internal Hold this connection's writes until the current tick ends, then send them in one go: the
   * answers to several messages that arrived in one read leave in one write instead of one each.
   */
  holdWrites(): void {
    if (this.holding) return;
    const socket = (this.ws as unknown as { _socket?: Socket })._socket;
    if (!socket || socket.destroyed) return;
    this.holding = true;
    socket.cork();
    process.nextTick(releaseWrites, this, socket);
  }

  /** @internal a message arrived. */
  received(bytes: number): void {
    this.messagesIn++;
    this.bytesIn += bytes;
    this.traffic.framesIn++;
    this.traffic.bytesIn += bytes;
    this.lastActivityAt = this.aliveAt = Date.now();
  }

  /** Messages and payload bytes each way so far. */
  counts(): TrafficTotals {
    return { messagesIn: this.messagesIn, messagesOut: this.messagesOut, bytesIn: this.bytesIn, bytesOut: this.bytesOut };
  }

  /** The negotiated subprotocol ('' when none). */
  get protocol(): string {
    return this.ws.protocol;
  }
  /** `open`, `closing` or `closed`. */
  get state(): 'connecting' | 'open' | 'closing' | 'closed' {
    return (['connecting', 'open', 'closing', 'closed'] as const)[this.ws.readyState]!;
  }
  /** Bytes queued for the peer and not yet written. */
  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  /**
   * Send a message: a string goes as text, a Buffer as binary unless `binary: false`. Answers true when it is
   * queued and the connection owes its client no more than `limits.sendQueue.pause`; false when the connection
   * is not open (nothing sent), or is over that mark (queued; the gateway has stopped reading from the client:
   * hold off, and go on from `callback` or later), or past `limits.sendQueue.close` (closed with 1008).
   */
  send(data: string | Buffer, options?: { binary?: boolean }, callback?: (err?: Error) => void): boolean {
    if (this.ws.readyState !== 1) {
      callback?.(new Error(`connection ${this.id} is not open`));
      return false;
    }
    const bytes = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    this.messagesOut++;
    this.bytesOut += bytes;
    this.traffic.framesOut++;
    this.traffic.bytesOut += bytes;
    this.lastActivityAt = Date.now();
    this.ws.send(data, options ?? {}, callback);
    // One compare per message; the limit does the rest, for a connection over it only.
    const queued = this.ws.bufferedAmount;
    const limit = (this.ws as { sendQueue?: SendLimit }).sendQueue;
    return limit === undefined || queued <= limit.pause || limit.overPause(this, queued);
  }

  /** Start the closing handshake (1000 by default). */
  close(code = 1000, reason = ''): void {
    if (this.ws.readyState >= 2) return;
    this.closedBy = 'local';
    this.ws.close(code, reason);
  }

  /** Drop the TCP connection at once, with no closing handshake (reported as 1006). */
  terminate(reason = ''): void {
    if (this.ws.readyState === 3) return;
    this.closedBy = 'local';
    this.localReason = reason;
    this.ws.terminate();
  }

  ping(data?: Buffer): void {
    if (this.ws.readyState === 1) this.ws.ping(data);
  }

  /** A plain summary for listings and logs (Kamailio's `ws.dump`). */
  toJSON(): Record<string, unknown> {
    return summarize(this as unknown as ConnectionEntry<any>, this.state);
  }

}

function releaseWrites(conn: Connection<any>, socket: Socket): void {
  conn.holding = false;
  socket.uncork();
}
