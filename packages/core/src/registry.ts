import type { CloseInfo, ConnectionEntry } from './connection-entry.js';

/** Told of every connection that opens and closes, terminated or proxied. */
export interface RegistrySubscriber {
  opened?(entry: ConnectionEntry<any>): void;
  closed?(entry: ConnectionEntry<any>, info: CloseInfo): void;
}

/**
 * The open WebSockets this gateway holds, terminated here or proxied, by id: Kamailio's `ws.dump` and
 * `ws.close`; subscribers (per-client limits) are told of each open and close.
 */
export class ConnectionRegistry {
  private readonly byId = new Map<number, ConnectionEntry<any>>();
  private readonly subscribers = new Set<RegistrySubscriber>();
  private lastId = 0;

  /**
   * @param idBase added to every id: in a cluster, worker k numbers its connections from k × 10⁹, so ids are
   *   unique across workers and tell which worker holds a connection.
   */
  constructor(private readonly idBase = 0) {}

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

  /** Be told of opens and closes from now on; returns the function that stops it. */
  subscribe(subscriber: RegistrySubscriber): () => void {
    this.subscribers.add(subscriber);
    return () => void this.subscribers.delete(subscriber);
  }

  get size(): number {
    return this.byId.size;
  }
  get(id: number): ConnectionEntry<any> | undefined {
    return this.byId.get(id);
  }
  /** Open connections, oldest first, optionally filtered. */
  list(filter?: (entry: ConnectionEntry<any>) => boolean): ConnectionEntry<any>[] {
    const all = [...this.byId.values()];
    return filter ? all.filter(filter) : all;
  }
  /** Close one connection; false when there is no such id. */
  close(id: number, code = 1000, reason = ''): boolean {
    const entry = this.byId.get(id);
    if (!entry) return false;
    entry.close(code, reason);
    return true;
  }
  [Symbol.iterator](): IterableIterator<ConnectionEntry<any>> {
    return this.byId.values();
  }
}
