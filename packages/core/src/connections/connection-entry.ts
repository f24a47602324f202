import { type ListenerInfo, type Attributes } from '../vocabulary.js';

/** How a connection ended: the close code and reason, and which side closed it. */
export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
  /** `local` when the gateway closed it (a script, shutdown, keepalive, a limit), `remote` when a peer did. */
  readonly by: 'local' | 'remote';
}

/** What a connection knows of the request that opened it. */
export interface ConnectionOrigin<A extends Attributes> {
  readonly listener: ListenerInfo;
  /** The real client's address and port. */
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly path: string;
  readonly origin: string | undefined;
  readonly attributes: Readonly<Partial<A>>;
}

/** Messages (for tunnels in raw mode: chunks) and payload bytes each way. */
export interface TrafficTotals {
  readonly messagesIn: number;
  readonly messagesOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/**
 * One open WebSocket the gateway holds, in the registry: `terminated` here (a `Connection`) or `proxied`
 * to an upstream (a tunnel a proxy target tracks with `req.track()`). Listing, closing by id, revocation and
 * per-client limits see both.
 */
export interface ConnectionEntry<A extends Attributes = Attributes> extends ConnectionOrigin<A> {
  readonly id: number;
  readonly kind: 'terminated' | 'proxied';
  /** The negotiated subprotocol ('' when none). */
  readonly protocol: string;
  get<K extends keyof A>(key: K): A[K] | undefined;
  /** ms since the epoch. */
  readonly createdAt: number;
  readonly lastActivityAt: number;
  /** Close with a code and reason (a tunnel passes them to both sides as far as its mode allows). */
  close(code?: number, reason?: string): void;
  /** Drop at once, with no closing handshake. */
  terminate(reason?: string): void;
  ping(): void;
  counts(): TrafficTotals;
  /** A plain summary for listings and logs (Kamailio's `ws.dump`). */
  toJSON(): Record<string, unknown>;
}

/** The facts of the opening request, as both kinds of connection expose them. */
export abstract class FromRequest<A extends Attributes> implements ConnectionOrigin<A> {
  // Copied, not kept as one object: one object less per open connection.
  readonly listener: ListenerInfo;
  /** The real client's address and port. */
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly path: string;
  readonly origin: string | undefined;
  /** The request's attribute bag, as the route script left it. */
  readonly attributes: Readonly<Partial<A>>;

  constructor(from: ConnectionOrigin<A>) {
    this.listener = from.listener;
    this.remoteAddress = from.remoteAddress;
    this.remotePort = from.remotePort;
    this.path = from.path;
    this.origin = from.origin;
    this.attributes = from.attributes;
  }

  get<K extends keyof A>(key: K): A[K] | undefined {
    return this.attributes[key];
  }
}

/** The summary both kinds share. */
export function summarize(entry: ConnectionEntry<any>, state: string): Record<string, unknown> {
  return {
    id: entry.id,
    kind: entry.kind,
    protocol: entry.protocol,
    state,
    listener: entry.listener.name,
    remote: `${entry.remoteAddress}:${entry.remotePort}`,
    path: entry.path,
    origin: entry.origin,
    createdAt: new Date(entry.createdAt).toISOString(),
    idleSeconds: (Date.now() - entry.lastActivityAt) / 1000,
    ...entry.counts(),
  };
}
