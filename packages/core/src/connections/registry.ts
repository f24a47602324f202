import type { CloseInfo, ConnectionEntry } from './connection-entry.js';
import type { Connection } from './connection.js';
import type { ConnectionDirectory, ConnectionSubscriber, SubscribeOptions } from './directory.js';

/** @deprecated the directory's name for it: `ConnectionSubscriber`. */
export type RegistrySubscriber = ConnectionSubscriber;

/**
 * @internal How the gateway's own parts put connections into the registry and take them out: the hub for
 * terminated WebSockets, `req.track()` for proxied tunnels. Not part of the directory seam: a directory
 * shared by several gateways learns of a connection from the registry of the node that holds it.
 */
export interface ConnectionRegistrar {
  nextId(): number;
  add(entry: ConnectionEntry<any>): void;
  remove(entry: ConnectionEntry<any>, info: CloseInfo): void;
}

/**
 * The open WebSockets this gateway holds, terminated here or proxied, by id: the in-process
 * `ConnectionDirectory` (Kamailio's `ws.dump` and `ws.close`); subscribers (per-client limits, metrics) are
 * told of each open and close. It answers everything at once; the gateway's own parts (hub, keepalive)
 * also iterate it.
 */
export class ConnectionRegistry implements ConnectionDirectory, ConnectionRegistrar {
  private readonly byId = new Map<number, ConnectionEntry<any>>();
  private readonly subscribers = new Set<ConnectionSubscriber>();
  /** Route modules' listeners of `post()`, by topic. */
  private readonly listeners = new Map<string, (data: string) => void>();
  private lastId = 0;

  /**
   * @param idBase added to every id: in a cluster, worker k numbers its connections from k × 10⁹, so ids are
   *   unique across workers and tell which worker holds a connection.
   */
  constructor(private idBase = 0) {}

  /**
   * @internal A directory shared by several gateways numbers this process's connections from its node number
   * (connections/node-claim.ts) once it has one: ids given before keep theirs.
   */
  setIdBase(idBase: number): void {
    this.idBase = idBase;
    this.lastId = 0;
  }

  /** @internal */
  nextId(): number {
    return this.idBase + ++this.lastId;
  }
  /** @internal */
  add(entry: ConnectionEntry<any>): void {
    this.byId.set(entry.id, entry);
    for (const s of this.subscribers) s.opened?.(entry);
  }
  /** @internal */
  remove(entry: ConnectionEntry<any>, info: CloseInfo): void {
    if (!this.byId.delete(entry.id)) return;
    for (const s of this.subscribers) s.closed?.(entry, info);
  }

  subscribe(subscriber: ConnectionSubscriber, options?: SubscribeOptions): () => void {
    // Synchronous: nothing can open or close between the replay and the subscription.
    if (options?.current && subscriber.opened) for (const entry of this.byId.values()) subscriber.opened(entry);
    this.subscribers.add(subscriber);
    return () => void this.subscribers.delete(subscriber);
  }

  get size(): number {
    return this.byId.size;
  }
  get(id: number): ConnectionEntry<any> | undefined {
    return this.byId.get(id);
  }
  list(filter?: (entry: ConnectionEntry<any>) => boolean): ConnectionEntry<any>[] {
    const all = [...this.byId.values()];
    return filter ? all.filter(filter) : all;
  }
  close(id: number, code = 1000, reason = ''): boolean {
    const entry = this.byId.get(id);
    if (!entry) return false;
    entry.close(code, reason);
    return true;
  }
  ping(id: number): boolean {
    const entry = this.byId.get(id);
    entry?.ping();
    return entry !== undefined;
  }
  send(id: number, data: string | Buffer, options?: { readonly binary?: boolean }): boolean {
    const entry = this.byId.get(id);
    if (entry?.kind !== 'terminated') return false;
    const conn = entry as Connection<any>;
    if (conn.state !== 'open') return false;
    return conn.send(data, options);
  }
  post(id: number, topic: string, data: string): boolean {
    const listener = this.listeners.get(topic);
    if (listener === undefined || !this.byId.has(id)) return false;
    listener(data);
    return true;
  }

  listen(topic: string, listener: (data: string) => void): () => void {
    this.listeners.set(topic, listener);
    return () => {
      if (this.listeners.get(topic) === listener) this.listeners.delete(topic);
    };
  }

  [Symbol.iterator](): IterableIterator<ConnectionEntry<any>> {
    return this.byId.values();
  }
}
