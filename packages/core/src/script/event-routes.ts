/**
 * The named event routes (docs/design.md convention 5), like Kamailio's `event_route[...]`, in one table:
 * `defineRoutes` checks names against it, `gateway.use()` resolves every entry into an array once, and the
 * hub's per-event lists are typed from it. A new event route is one member of `EventRouteSignatures` and one
 * entry of `eventRoutes` (the compiler refuses either without the other), plus the code that fires it.
 */
import type { CloseInfo, Connection } from '../connections/connection.js';
import type { Action } from '../request/actions.js';
import type { RequestContext } from '../request/request-context.js';
import type { Attributes } from '../vocabulary.js';

/** What an `http:request` route may return: an action, or nothing (fall through to the next handler). */
export type RouteResult = Action | void | undefined;

/**
 * What a `websocket:*` route may return: nothing, or a promise (its rejection is logged). A boolean is
 * `conn.send()`'s answer, so that `(conn, data) => conn.send(data)` is a route; it is ignored.
 */
export type WebSocketRouteResult = void | boolean | Promise<void>;

/** Each event route's handler; `RouteHandlers` makes every one optional. */
export interface EventRouteSignatures<A extends Attributes = Attributes> {
  /** Every HTTP request, upgrade or not. End it with `req.reply()`, `req.handshake()` or `req.next()`. */
  'http:request': (req: RequestContext<A>) => RouteResult | Promise<RouteResult>;
  /** A WebSocket this gateway terminated is open. */
  'websocket:open': (conn: Connection<A>) => WebSocketRouteResult;
  /** A whole message (text stays text: `isBinary` false). */
  'websocket:message': (conn: Connection<A>, data: Buffer, isBinary: boolean) => WebSocketRouteResult;
  /** The connection is gone; `info` says with which code and which side closed it. */
  'websocket:closed': (conn: Connection<A>, info: CloseInfo) => WebSocketRouteResult;
  /**
   * This route set is being retired: `shutdown` (the gateway closes within `grace` seconds: end what you
   * hold, e.g. tunnels with 1001) or `reload` (a new route set has taken over: stop timers, hand over ports,
   * but leave open connections be). Awaited, within the grace period.
   */
  'routes:close': (reason: 'reload' | 'shutdown', grace: number) => void | Promise<void>;
}

export type EventRouteName = keyof EventRouteSignatures;

/** One row of the table: who fires the event route, and what for. */
export interface EventRouteEntry {
  /** `dispatcher`: request/dispatch.ts runs it per request; `hub`: connections/hub.ts per WebSocket event; `gateway`: gateway.ts when a route set retires. */
  readonly firedBy: 'dispatcher' | 'hub' | 'gateway';
  readonly purpose: string;
}

/** The event routes, in the order `defineRoutes` lists them. */
export const eventRoutes = {
  'http:request': { firedBy: 'dispatcher', purpose: 'every HTTP request, upgrade or not; ends with an action or passes it on' },
  'websocket:open': { firedBy: 'hub', purpose: 'a WebSocket this gateway terminated is open' },
  'websocket:message': { firedBy: 'hub', purpose: 'a whole message from the peer' },
  'websocket:closed': { firedBy: 'hub', purpose: 'the connection is gone, with its close code and which side closed it' },
  'routes:close': { firedBy: 'gateway', purpose: 'the route set is retired by a reload or a shutdown: release what it holds' },
} as const satisfies { readonly [K in EventRouteName]: EventRouteEntry };

export const eventRouteNames = Object.freeze(Object.keys(eventRoutes)) as readonly EventRouteName[];

/** The event routes a given part of the gateway fires, e.g. `EventRoutesFiredBy<'hub'>`. */
export type EventRoutesFiredBy<F extends EventRouteEntry['firedBy']> = {
  [K in EventRouteName]: (typeof eventRoutes)[K]['firedBy'] extends F ? K : never;
}[EventRouteName];

/** One mounted handler and the route set it logs under. */
export interface NamedRoute<K extends EventRouteName> {
  readonly name: string;
  readonly run: EventRouteSignatures<any>[K];
}

/** Every event route's handlers over the mounted route sets, in mount order; an unused route is an empty array. */
export type ResolvedRoutes = { readonly [K in EventRouteName]: readonly NamedRoute<K>[] };

/**
 * Resolves route sets into one array per event route, once per mount or reload, so that firing a route nobody
 * defined costs a `length` check. Every result has the table's keys in the table's order (one object shape).
 */
export function resolveEventRoutes(sets: readonly { readonly name: string; readonly handlers: Partial<EventRouteSignatures<any>> }[]): ResolvedRoutes {
  const resolved = {} as { [K in EventRouteName]: NamedRoute<K>[] };
  for (const key of eventRouteNames) {
    const list: NamedRoute<typeof key>[] = [];
    for (const set of sets) {
      const run = set.handlers[key];
      if (run) list.push({ name: set.name, run });
    }
    (resolved as Record<EventRouteName, NamedRoute<EventRouteName>[]>)[key] = list;
  }
  return resolved;
}
