import type { Connection, CloseInfo } from './connection.js';
import type { Action } from './actions.js';
import type { RequestContext } from './request-context.js';
import type { Gateway } from './gateway.js';

/** The typed attribute bag a request hands to the connection it becomes. */
export type Attributes = Record<string, unknown>;

/** What an `http:request` route may return: an action, or nothing (fall through to the next handler). */
export type RouteResult = Action | void | undefined;

/**
 * The named event routes (DESIGN.md convention 5), like Kamailio's `event_route[...]`.
 * Each is optional; an absent route costs nothing on the hot path.
 */
export interface RouteHandlers<A extends Attributes = Attributes> {
  /** Every HTTP request, upgrade or not. End it with `req.reply()`, `req.handshake()` or `req.next()`. */
  'http:request'?: (req: RequestContext<A>) => RouteResult | Promise<RouteResult>;
  /** A WebSocket this gateway terminated is open. */
  'websocket:open'?: (conn: Connection<A>) => void | Promise<void>;
  /** A whole message (text stays text: `isBinary` false). */
  'websocket:message'?: (conn: Connection<A>, data: Buffer, isBinary: boolean) => void | Promise<void>;
  /** The connection is gone; `info` says with which code and which side closed it. */
  'websocket:closed'?: (conn: Connection<A>, info: CloseInfo) => void | Promise<void>;
  /**
   * This route set is being retired: `shutdown` (the gateway closes within `grace` seconds: end what you
   * hold, e.g. tunnels with 1001) or `reload` (a new route set has taken over: stop timers, hand over ports,
   * but leave open connections be). Awaited, within the grace period.
   */
  'routes:close'?: (reason: 'reload' | 'shutdown', grace: number) => void | Promise<void>;
}

const kRoutes = Symbol.for('wsgate.routes');

/** A set of event routes, ready to mount with `gateway.use()`. */
export interface Routes<A extends Attributes = Attributes> {
  readonly [kRoutes]: true;
  /** For logs: which mounted routes threw. */
  readonly name: string;
  readonly handlers: Readonly<RouteHandlers<A>>;
}

/** What a route script may export as default instead of `Routes`: called once, after config is loaded. */
export type RouteFactory = (context: {
  gateway: Gateway;
  options: Readonly<Record<string, unknown>>;
}) => Routes<any> | readonly Routes<any>[] | Promise<Routes<any> | readonly Routes<any>[]>;

/**
 * Declares a route script's event routes.
 * @example
 * export default defineRoutes({
 *   'http:request'(req) {
 *     if (req.isWebSocketUpgrade) return req.handshake({ protocols: ['sip'] });
 *     return req.next();
 *   },
 * });
 */
export function defineRoutes<A extends Attributes = Attributes>(
  handlers: RouteHandlers<A>,
  name = 'routes',
): Routes<A> {
  const known = new Set(['http:request', 'websocket:open', 'websocket:message', 'websocket:closed', 'routes:close']);
  for (const [key, value] of Object.entries(handlers)) {
    if (!known.has(key)) {
      throw new TypeError(`defineRoutes: unknown event route "${key}"; known ones are ${[...known].join(', ')}`);
    }
    if (typeof value !== 'function') throw new TypeError(`defineRoutes: "${key}" must be a function`);
  }
  return Object.freeze({ [kRoutes]: true as const, name, handlers: Object.freeze({ ...handlers }) });
}

/** True for what `defineRoutes` made (also across two copies of this package). */
export function isRoutes(value: unknown): value is Routes<any> {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[kRoutes] === true;
}
