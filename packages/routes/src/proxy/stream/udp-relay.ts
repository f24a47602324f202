/**
 * UDP relay: each client address and port is a session with its own socket connected to the node the
 * balancer chose, so the node's answers find their way back and each client keeps its node. Datagrams are
 * relayed as they come (no reordering, no buffering beyond a few while the session's socket binds).
 * A node's ICMP "port unreachable" surfaces as ECONNREFUSED on the connected socket: a passive-health failure.
 */
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { NodePicker } from '../node-picker.js';
import type { UpstreamNode } from '../node.js';
import { RelayBase } from './relay-base.js';
import type { StreamPool, StreamSettings } from './stream-pool.js';

/** Datagrams held per session while its socket connects. */
const MAX_PENDING = 64;

interface Session {
  readonly key: string;
  readonly clientAddress: string;
  readonly clientPort: number;
  readonly node: UpstreamNode;
  readonly socket: dgram.Socket;
  /** Datagrams from the client before the socket is connected; undefined once it is. */
  pending: Buffer[] | undefined;
  /** Bumped on every datagram either way; the sweep compares it with what it saw last time. */
  activity: number;
  seen: number;
  quietSince: number;
}

export class UdpRelay extends RelayBase {
  private socket: dgram.Socket | undefined;
  private readonly table = new Map<string, Session>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(pool: StreamPool, settings: StreamSettings) {
    super(pool, settings, 'udp');
  }

  get sessions(): number {
    return this.table.size;
  }

  async listen(): Promise<void> {
    const socket = dgram.createSocket({ type: isIPv6(this.settings.host) ? 'udp6' : 'udp4' });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.settings.port, this.settings.host, () => {
        socket.removeListener('error', reject);
        resolve();
      });
    });
    socket.on('error', (err) => this.log.warn({ err }, 'udp relay socket error'));
    socket.on('message', (msg, rinfo) => this.fromClient(msg, rinfo.address, rinfo.port));
    this.socket = socket;
    this.bound = { host: this.settings.host, port: socket.address().port };
    const period = Math.max(25, Math.min(1000, this.settings.idleMs / 4));
    this.sweeper = setInterval(() => this.sweep(), period);
    this.sweeper.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    for (const s of [...this.table.values()]) this.end(s);
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
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
    const node = new NodePicker(this.pool, clientAddress, this.log).next();
    if (node === undefined) {
      this.log.warn({ client: `${clientAddress}:${clientPort}` }, 'no live upstreams for udp session');
      return undefined;
    }
    const socket = dgram.createSocket({ type: isIPv6(node.address.host) ? 'udp6' : 'udp4' });
    const session: Session = { key, clientAddress, clientPort, node, socket, pending: [], activity: 0, seen: -1, quietSince: Date.now() };
    this.table.set(key, session);
    node.active++;
    socket.on('message', (msg) => {
      session.activity++;
      this.socket?.send(msg, clientPort, clientAddress);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') node.recordFailure(Date.now(), this.pool.nodeCount === 1);
      this.log.info({ upstream: node.address.label, client: `${clientAddress}:${clientPort}`, err }, 'udp session failed');
      this.end(session);
    });
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
