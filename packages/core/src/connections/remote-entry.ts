/**
 * A connection as the shared directory keeps it in Redis (one JSON record per connection, written by the node
 * that holds it), and the `ConnectionEntry` other nodes see from that record: its facts as of the holder's
 * last write, and close, ping, terminate sent to the holder.
 */
import type { ListenerInfo } from '../vocabulary.js';
import type { ConnectionEntry, TrafficTotals } from './connection-entry.js';

/** Attribute values kept in a record: what other nodes can filter on (a token id, a user). */
type Primitive = string | number | boolean;
const MAX_ATTRIBUTE_LENGTH = 256;
const MAX_ATTRIBUTES = 32;

export interface ConnectionRecord {
  readonly id: number;
  readonly node: string;
  readonly worker: number;
  readonly kind: 'terminated' | 'proxied';
  readonly protocol: string;
  readonly state: string;
  readonly listener: ListenerInfo;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly path: string;
  readonly origin: string | undefined;
  /** The `user` attribute when it is a string (cookie-token's subject, basic auth's user). */
  readonly user: string | undefined;
  /** The attributes whose values are strings (up to 256 characters), numbers or booleans; 32 at most. */
  readonly attributes: Readonly<Record<string, Primitive>>;
  readonly createdAt: number;
  readonly lastActivityAt: number;
  readonly counts: TrafficTotals;
}

export function recordOf(entry: ConnectionEntry<any>, node: string, worker: number): ConnectionRecord {
  const attributes: Record<string, Primitive> = {};
  let kept = 0;
  for (const [key, value] of Object.entries(entry.attributes as Record<string, unknown>)) {
    if (kept === MAX_ATTRIBUTES) break;
    if (typeof value === 'number' || typeof value === 'boolean' || (typeof value === 'string' && value.length <= MAX_ATTRIBUTE_LENGTH)) {
      attributes[key] = value;
      kept++;
    }
  }
  const user = (entry.attributes as Record<string, unknown>).user;
  // A terminated connection's state; a listed tunnel is open.
  const state = (entry as { state?: unknown }).state;
  return {
    id: entry.id,
    node,
    worker,
    kind: entry.kind,
    protocol: entry.protocol,
    state: typeof state === 'string' ? state : 'open',
    listener: { name: entry.listener.name, port: entry.listener.port, tls: entry.listener.tls },
    remoteAddress: entry.remoteAddress,
    remotePort: entry.remotePort,
    path: entry.path,
    origin: entry.origin,
    user: typeof user === 'string' ? user : undefined,
    attributes,
    createdAt: entry.createdAt,
    lastActivityAt: entry.lastActivityAt,
    counts: entry.counts(),
  };
}

/** What a remote entry's close, ping and terminate ask of the node that holds it. */
export interface RemoteActions {
  close(record: ConnectionRecord, code: number, reason: string): void;
  ping(record: ConnectionRecord): void;
  terminate(record: ConnectionRecord, reason: string): void;
}

/** Another node's connection, from its record: facts as of the holder's last write (at most a heartbeat old). */
export class RemoteEntry implements ConnectionEntry<any> {
  readonly id: number;
  readonly kind: 'terminated' | 'proxied';
  readonly protocol: string;
  readonly listener: ListenerInfo;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly path: string;
  readonly origin: string | undefined;
  readonly attributes: Readonly<Record<string, Primitive>>;
  readonly createdAt: number;
  readonly lastActivityAt: number;

  constructor(
    readonly record: ConnectionRecord,
    private readonly actions: RemoteActions,
  ) {
    this.id = record.id;
    this.kind = record.kind;
    this.protocol = record.protocol;
    this.listener = record.listener;
    this.remoteAddress = record.remoteAddress;
    this.remotePort = record.remotePort;
    this.path = record.path;
    this.origin = record.origin;
    this.attributes = record.attributes;
    this.createdAt = record.createdAt;
    this.lastActivityAt = record.lastActivityAt;
  }

  /** The node that holds it. */
  get node(): string {
    return this.record.node;
  }

  get(key: string | number | symbol): any {
    return typeof key === 'string' ? this.attributes[key] : undefined;
  }
  close(code = 1000, reason = ''): void {
    this.actions.close(this.record, code, reason);
  }
  terminate(reason = ''): void {
    this.actions.terminate(this.record, reason);
  }
  ping(): void {
    this.actions.ping(this.record);
  }
  counts(): TrafficTotals {
    return this.record.counts;
  }
  toJSON(): Record<string, unknown> {
    return summaryOfRecord(this.record);
  }
}

/** The listing's summary (`summarize()`'s fields), with the node and the user. */
function summaryOfRecord(r: ConnectionRecord): Record<string, unknown> {
  return {
    id: r.id,
    node: r.node,
    kind: r.kind,
    protocol: r.protocol,
    state: r.state,
    listener: r.listener.name,
    remote: `${r.remoteAddress}:${r.remotePort}`,
    path: r.path,
    origin: r.origin,
    ...(r.user !== undefined ? { user: r.user } : {}),
    createdAt: new Date(r.createdAt).toISOString(),
    idleSeconds: (Date.now() - r.lastActivityAt) / 1000,
    ...r.counts,
  };
}
