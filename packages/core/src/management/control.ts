import type { ConnectionEntry } from '../connections/connection-entry.js';
import type { ConnectionDirectory } from '../connections/directory.js';
import { SharedDirectory } from '../connections/shared-directory.js';
import type { ProcessMemory } from './process-memory.js';
import type { ViewFilter, ViewInfo, ViewPage, ViewPaging } from './views.js';

/** Which connections to list (all filters optional; they combine). */
export interface ConnectionFilter {
  /** Exact subprotocol; '' for none. */
  readonly protocol?: string | undefined;
  /** Exact client IP (the real one). */
  readonly client?: string | undefined;
  /** Only connections idle at least this many seconds. */
  readonly minIdle?: number | undefined;
  readonly offset?: number | undefined;
  /** Default 100, at most 1000. */
  readonly limit?: number | undefined;
  /**
   * Not from the API: a cluster primary asks each worker for its first `offset + limit` connections, which may
   * be more than a page may hold, to merge the page wanted from them.
   */
  readonly uncapped?: boolean | undefined;
}

/** A connection as the management API shows it (`Connection.toJSON()`, plus the worker in a cluster). */
export type ConnectionSummary = Record<string, unknown> & { readonly id: number };

export interface ConnectionPage {
  readonly total: number;
  readonly offset: number;
  readonly limit: number;
  readonly connections: readonly ConnectionSummary[];
  /**
   * With a shared directory (`store.redis`), set when other nodes' connections could not be read (Redis out of
   * reach): the page holds this node's only, and this says so and why.
   */
  readonly partial?: string;
}

export interface GatewayStatus {
  readonly pid: number;
  readonly uptimeSeconds: number;
  readonly websockets: 'enabled' | 'disabled';
  readonly connections: number;
  readonly workers: number;
}

/**
 * What the management API can do to a gateway (Kamailio's ws.dump, ws.close, ws.ping, ws.disable,
 * ws.enable, and a reload). One process implements it directly; a cluster primary fans it out to workers.
 */
export interface GatewayControl {
  listConnections(filter: ConnectionFilter): Promise<ConnectionPage>;
  getConnection(id: number): Promise<ConnectionSummary | undefined>;
  /** False when there is no such connection. Throws a RangeError for a close code WebSockets forbid. */
  closeConnection(id: number, code: number, reason: string): Promise<boolean>;
  pingConnection(id: number): Promise<boolean>;
  setWebSocketsEnabled(enabled: boolean): Promise<void>;
  status(): Promise<GatewayStatus>;
  /** Re-read config, scripts, certificates; rejects (keeping the old config) with the errors when invalid. */
  reload(): Promise<void>;
  /** The views route modules added (views.ts). */
  listViews(): Promise<ViewInfo[]>;
  /** A page of a view's rows; undefined when there is no such view. Throws a RangeError for a filter key it does not take. */
  readView(name: string, filter: ViewFilter, paging: ViewPaging): Promise<ViewPage | undefined>;
  /** Each process's memory (a cluster: the primary, then each worker), after a full collection with `collect`. */
  memory(collect: boolean): Promise<ProcessMemory[]>;
}

export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 1000;

/**
 * Applies a filter to a directory's connections and pages the result (by id). A shared directory's listing
 * names each connection's node, and says when it is partial.
 */
export async function pageOf(directory: ConnectionDirectory, filter: ConnectionFilter, now = Date.now()): Promise<ConnectionPage> {
  const accept = (c: ConnectionEntry<any>) => matchesFilter(c, filter, now);
  if (directory instanceof SharedDirectory) {
    const { entries, partial } = await directory.listReport(accept);
    const page = paginate(entries.toSorted((a, b) => a.id - b.id).map((c) => directory.summary(c) as ConnectionSummary), filter);
    return partial === undefined ? page : { ...page, partial };
  }
  const matches = (await directory.list(accept)).toSorted((a, b) => a.id - b.id);
  return paginate(matches.map((c) => c.toJSON() as ConnectionSummary), filter);
}

export function matchesFilter(conn: ConnectionEntry<any>, filter: ConnectionFilter, now: number): boolean {
  if (filter.protocol !== undefined && conn.protocol !== filter.protocol) return false;
  if (filter.client !== undefined && conn.remoteAddress !== filter.client) return false;
  if (filter.minIdle !== undefined && now - conn.lastActivityAt < filter.minIdle * 1000) return false;
  return true;
}

export function paginate(all: readonly ConnectionSummary[], filter: ConnectionFilter): ConnectionPage {
  const offset = filter.offset ?? 0;
  const limit = filter.uncapped === true ? (filter.limit ?? DEFAULT_PAGE) : Math.min(filter.limit ?? DEFAULT_PAGE, MAX_PAGE);
  return { total: all.length, offset, limit, connections: all.slice(offset, offset + limit) };
}

/** A valid close code for a server to send (RFC 6455 §7.4): 1000–1003, 1007–1014, or 3000–4999. */
export function checkCloseCode(code: number): void {
  const ok = Number.isInteger(code) && ((code >= 1000 && code <= 1014 && ![1004, 1005, 1006].includes(code)) || (code >= 3000 && code <= 4999));
  if (!ok) throw new RangeError(`close code ${code} is not one a server may send: use 1000–1003, 1007–1014 or 3000–4999`);
}
