import type { Connection } from './connection.js';

/**
 * The open WebSockets this gateway terminated, by id: Kamailio's `ws.dump` and `ws.close`.
 */
export class ConnectionRegistry {
  private readonly byId = new Map<number, Connection<any>>();
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
  add(conn: Connection<any>): void {
    this.byId.set(conn.id, conn);
  }
  /** @internal */
  delete(conn: Connection<any>): void {
    this.byId.delete(conn.id);
  }

  get size(): number {
    return this.byId.size;
  }
  get(id: number): Connection<any> | undefined {
    return this.byId.get(id);
  }
  /** Open connections, oldest first, optionally filtered. */
  list(filter?: (conn: Connection<any>) => boolean): Connection<any>[] {
    const all = [...this.byId.values()];
    return filter ? all.filter(filter) : all;
  }
  /** Close one connection; false when there is no such id. */
  close(id: number, code = 1000, reason = ''): boolean {
    const conn = this.byId.get(id);
    if (!conn) return false;
    conn.close(code, reason);
    return true;
  }
  [Symbol.iterator](): IterableIterator<Connection<any>> {
    return this.byId.values();
  }
}
