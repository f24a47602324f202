/**
 * UDP relay: each client address and port is a session with its own socket connected to the node the
 * balancer chose, so the node's answers find their way back and each client keeps its node. Datagrams are
 * relayed as they come (no reordering, no buffering beyond a few while the session's socket binds).
 * A node's ICMP "port unreachable" surfaces as ECONNREFUSED on the connected socket: a passive-health failure.
 * On a reload the listening socket and every session go to the new route set's relay on the same address.
 */
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { NodePicker } from '../upstream/node-picker.js';
import type { UpstreamNode } from '../upstream/node.js';
import { holdPort, passOn } from './port-ledger.js';
import { RelayBase } from './relay-base.js';
import type { StreamPool, StreamSettings } from './stream-pool.js';

/** Datagrams held per session while its socket connects. */
const MAX_PENDING = 64;

/** What a session needs of the relay that owns it now (possibly a newer copy of this class, after a reload). */
interface SessionOwner {
  toClient(session: Session, msg: Buffer): void;
  failed(session: Session, err: NodeJS.ErrnoException): void;
}

interface Session {
  readonly key: string;
  readonly clientAddress: string;
  readonly clientPort: number;
  readonly node: UpstreamNode;
  readonly socket: dgram.Socket;
  /** Changes when a reload hands the session over. */
  owner: SessionOwner;
  /** Datagrams from the client before the socket is connected; undefined once it is. */
  pending: Buffer[] | undefined;
  /** Bumped on every datagram either way; the sweep compares it with what it saw last time. */
  activity: number;
  seen: number;
  quietSince: number;
}

/** What a reload hands over: the bound socket and the sessions it serves. */
export interface UdpHandOver {
  readonly socket: dgram.Socket;
  readonly sessions: readonly Session[];
}

export class UdpRelay extends RelayBase<UdpHandOver> implements SessionOwner {
  private socket: dgram.Socket | undefined;
  private readonly table = new Map<string, Session>();
  private sweeper: NodeJS.Timeout | undefined;
  private readonly onMessage = (msg: Buffer, rinfo: dgram.RemoteInfo) => this.fromClient(msg, rinfo.address, rinfo.port);
  private readonly onError = (err: Error) => this.log.warn({ err }, 'udp relay socket error');

  constructor(pool: StreamPool, settings: StreamSettings) {
    super(pool, settings, 'udp');
  }

  get sessions(): number {
    return this.table.size;
  }

  protected async bind(): Promise<{ host: string; port: number }> {
    const socket = dgram.createSocket({ type: isIPv6(this.settings.host) ? 'udp6' : 'udp4' });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.settings.port, this.settings.host, () => {
        socket.removeListener('error', reject);
        resolve();
      });
    });
    if (this.portKey !== undefined) holdPort(this.portKey, this);
    this.serve(socket);
    return { host: this.settings.host, port: socket.address().port };
  }

  adopt({ socket, sessions }: UdpHandOver): void {
    for (const s of sessions) {
      s.owner = this;
      this.table.set(s.key, s);
    }
    this.serve(socket);
    this.log.info({ sessions: sessions.length }, 'port and sessions taken over from the relay before the reload');
  }

  protected async handOver(): Promise<void> {
    const socket = this.socket;
    const heir = socket && this.portKey !== undefined ? (passOn(this.portKey, this) as UdpRelay | undefined) : undefined;
    if (socket === undefined || heir === undefined) return this.close();
    this.stopServing();
    const sessions = [...this.table.values()];
    this.table.clear();
    heir.adopt({ socket, sessions });
  }

  protected async shutdown(): Promise<void> {
    for (const s of [...this.table.values()]) this.end(s);
    const socket = this.socket;
    this.stopServing();
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  private serve(socket: dgram.Socket): void {
    this.socket = socket;
    socket.on('error', this.onError);
    socket.on('message', this.onMessage);
    const period = Math.max(25, Math.min(1000, this.settings.idleMs / 4));
    this.sweeper = setInterval(() => this.sweep(), period);
    this.sweeper.unref();
  }

  private stopServing(): void {
    clearInterval(this.sweeper);
    this.socket?.removeListener('error', this.onError);
    this.socket?.removeListener('message', this.onMessage);
    this.socket = undefined;
  }

  toClient(session: Session, msg: Buffer): void {
    session.activity++;
    this.socket?.send(msg, session.clientPort, session.clientAddress);
  }

  failed(session: Session, err: NodeJS.ErrnoException): void {
    if (err.code === 'ECONNREFUSED') session.node.recordFailure(Date.now(), this.pool.nodeCount === 1);
    this.log.info({ upstream: session.node.address.label, client: `${session.clientAddress}:${session.clientPort}`, err }, 'udp session failed');
    this.end(session);
  }

  private fromClient(msg: Buffer, address: string, port: number): void {
    const key = `${address}|${port}`;
    const session = this.table.get(key) ?? this.open(key, address, port);
    if (session === undefined) return;
    session.activity++;
    if (session.pending) {
      if (session.pending.length < MAX_PENDING) session.pending.push(msg);
    } else {
      session.socket.send(msg);
    }
  }

  private open(key: string, clientAddress: string, clientPort: number): Session | undefined {
    if (this.table.size >= this.settings.maxSessions) {
      this.log.warn({ client: `${clientAddress}:${clientPort}`, limit: this.settings.maxSessions }, 'udp session refused: maxSessions reached');
      return undefined;
    }
    const node = new NodePicker(this.pool, clientAddress, () => this.log).next();
    if (node === undefined) {
      this.log.warn({ client: `${clientAddress}:${clientPort}` }, 'no live upstreams for udp session');
      return undefined;
    }
    const socket = dgram.createSocket({ type: isIPv6(node.address.host) ? 'udp6' : 'udp4' });
    const session: Session = { key, clientAddress, clientPort, node, socket, owner: this, pending: [], activity: 0, seen: -1, quietSince: Date.now() };
    this.table.set(key, session);
    node.active++;
    socket.on('message', (msg) => session.owner.toClient(session, msg));
    socket.on('error', (err) => session.owner.failed(session, err));
    socket.connect(node.address.port, node.address.host, () => {
      const pending = session.pending ?? [];
      session.pending = undefined;
      for (const msg of pending) socket.send(msg);
    });
    return session;
  }

  private end(session: Session): void {
    if (this.table.get(session.key) !== session) return;
    this.table.delete(session.key);
    session.node.active--;
    try {
      session.socket.close();
    } catch {
      // Already closed by an error.
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const s of this.table.values()) {
      if (s.activity !== s.seen) {
        s.seen = s.activity;
        s.quietSince = now;
      } else if (now - s.quietSince >= this.settings.idleMs) {
        this.end(s);
      }
    }
  }
}
