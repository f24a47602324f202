import { type Attributes } from '../vocabulary.js';
import { eventRoutes, eventRouteNames, type EventRouteSignatures, type RouteResult } from './event-routes.js';

export type { RouteResult };

/**
 * The named event routes (docs/design.md convention 5; the table is script/event-routes.ts), like Kamailio's
 * `event_route[...]`. Each is optional; an absent route costs nothing on the hot path.
 */
export interface RouteHandlers<A extends Attributes = Attributes> extends Partial<EventRouteSignatures<A>> {}

const kRoutes = Symbol.for('wsgate.routes');

/** A set of event routes, ready to mount with `gateway.use()`. */
export interface Routes<A extends Attributes = Attributes> {
  readonly [kRoutes]: true;
  /** For logs: which mounted routes threw. */
  readonly name: string;
  readonly handlers: Readonly<RouteHandlers<A>>;
}

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
  for (const [key, value] of Object.entries(handlers)) {
    if (!Object.hasOwn(eventRoutes, key)) {
      throw new TypeError(`defineRoutes: unknown event route "${key}"; known ones are ${eventRouteNames.join(', ')}`);
    }
    if (typeof value !== 'function') throw new TypeError(`defineRoutes: "${key}" must be a function`);
  }
  return Object.freeze({ [kRoutes]: true as const, name, handlers: Object.freeze({ ...handlers }) });
}

/** True for what `defineRoutes` made (also across two copies of this package). */
export function isRoutes(value: unknown): value is Routes<any> {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[kRoutes] === true;
}
