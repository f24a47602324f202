import type { Action } from './actions.js';
import { WsgateError } from '../errors.js';
import { isThenable } from '../vocabulary.js';
import type { RequestContext } from './request-context.js';
import type { NamedRoute, RouteResult } from '../script/event-routes.js';

/** One mounted `http:request` route and the name it logs under. */
export type RequestRoute = NamedRoute<'http:request'>;

/** A route threw: the pipeline stops, and the gateway answers 500 and logs which route it was. */
export class RouteFailure extends Error {
  override readonly name = 'RouteFailure';
  constructor(
    readonly route: string,
    override readonly cause: unknown,
  ) {
    super(`route "${route}" threw: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/** The action a route took, and which mounted routes it was. */
export interface Taken {
  readonly action: Action;
  readonly route: string;
}

/**
 * Runs the mounted routes in order (docs/design.md convention 4). A route ends the request by taking an action;
 * `next()`, or returning without an action, passes it on. Returns the action taken and by whom, or undefined
 * when every route passed (the caller answers 404).
 *
 * Synchronous while the routes are: a promise appears only from the first route that returns one, so a
 * request that sync routes decide costs no microtask hops.
 */
export function runPipeline(req: RequestContext<any>, routes: readonly RequestRoute[], from = 0): Taken | undefined | Promise<Taken | undefined> {
  for (let i = from; i < routes.length; i++) {
    const route = routes[i]!;
    let result: RouteResult | Promise<RouteResult>;
    try {
      result = route.run(req);
    } catch (err) {
      throw new RouteFailure(route.name, err);
    }
    if (isThenable(result)) {
      req.awaiting = route.name;
      return result.then(
        // Past its deadline the request is answered: a late route's action is dropped, and no later route runs.
        (settled) => (req.expired ? undefined : (taken(req, route, settled) ?? runPipeline(req, routes, i + 1))),
        (err: unknown) => {
          throw new RouteFailure(route.name, err);
        },
      );
    }
    const done = taken(req, route, result);
    if (done) return done;
  }
  return undefined;
}

/** What a route that has returned leaves: the action that ends the request, or undefined to go on. */
function taken(req: RequestContext<any>, route: RequestRoute, result: RouteResult): Taken | undefined {
  const action = req.takeAction();
  if (result !== undefined && result !== action) {
    throw new RouteFailure(
      route.name,
      new WsgateError(
        'WSGATE_API_MISUSE',
        'a route returned something that is not the action it took; return req.reply(...), req.handshake(...) or req.next(), or nothing',
      ),
    );
  }
  return action !== undefined && action.kind !== 'next' ? { action, route: route.name } : undefined;
}


