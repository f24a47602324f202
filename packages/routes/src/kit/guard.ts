/**
 * The one shape every access-control and authentication module has (docs/design.md convention 7): a factory
 * validates its options at start-up and returns a `Guard`, which a route calls in one line.
 */
import { isThenable, type Attributes, type RequestContext, type RouteResult } from '@wsgate/core';

/**
 * An access check made by a factory such as `origin({...})`, `basicAuth({...})` or `rateLimit({...})`.
 *
 * `check()` answers true when the request may go on. When it answers false the module has already taken
 * the refusal action (`req.refuse(status, name, reason)`: a 401, 403, 429 or 503 with the right headers,
 * logged with the client's real IP and counted under `name`), so the route only returns:
 *
 * ```ts
 * if (!(await auth.check(req))) return;
 * ```
 *
 * A module that needs no I/O for a request answers at once (a boolean): Origin, Host, a rate limit counted in
 * memory, a token the store remembers. One that does (a file, a shared store, a hook) answers with a promise.
 * {@link whenAdmitted} keeps a route synchronous while its guards are, and so the handshake too.
 *
 * Modules that identify someone (basic, digest, cookie token, auth hook) record it in the request's
 * attributes, which the WebSocket connection inherits (`conn.get('user')`).
 */
export interface Guard {
  /** What refusals are logged and counted under: `origin`, `host`, `basic`, `digest`, `cookie-token`, … */
  readonly name: string;
  /** Admit (true), or refuse (false, the refusal already taken). Never rejects for a request's fault. */
  check(req: RequestContext<any>): boolean | Promise<boolean>;
  /** Stops what the module does in the background (file checks, timers, open sockets). Idempotent. */
  close(): Promise<void>;
  /**
   * Optional: starts the read that `check()` of the same request will need (a token looked up in a shared
   * store), deciding and refusing nothing. {@link allOf} calls it on the guards after one that answers through
   * a promise, so that their reads reach the store with that one's: one round trip for the request, not one
   * per guard. When an earlier guard refuses, the read was made for nothing (and its answer never shown).
   */
  prefetch?(req: RequestContext<any>): void;
}

/**
 * Several guards as one, run in order until one refuses: put the cheapest and broadest first
 * (`allOf(rateLimit(...), origin(...), cookieToken(...))`). Synchronous as long as the guards answer at once.
 * When one answers through a promise, the later ones' reads start with it (`Guard.prefetch`); each still
 * decides only once those before it admitted. `close()` closes them all.
 */
export function allOf(...guards: readonly Guard[]): Guard {
  const from = (req: RequestContext<any>, first: number): boolean | Promise<boolean> => {
    for (let i = first; i < guards.length; i++) {
      const answer = guards[i]!.check(req);
      if (isThenable(answer)) {
        // The later guards' reads go out now, with this one's, rather than one round trip after another.
        for (let j = i + 1; j < guards.length; j++) guards[j]!.prefetch?.(req);
        return answer.then((admitted) => admitted && from(req, i + 1));
      }
      if (!answer) return false;
    }
    return true;
  };
  return {
    name: guards.map((g) => g.name).join('+'),
    check: (req) => from(req, 0),
    async close() {
      await Promise.all(guards.map((g) => g.close()));
    },
  };
}

/**
 * The route's next step once `guard` admits `req`, taken at once when the guard answers at once: a route
 * written `return whenAdmitted(access, req, () => req.handshake())` stays synchronous while its guards need no
 * I/O. A refusal ends the route with nothing to return (the guard took the refusal action). `next` is given
 * `req`, so that a route can pass one function made once instead of a new closure per request.
 */
export function whenAdmitted<A extends Attributes>(
  guard: Guard,
  req: RequestContext<A>,
  next: (req: RequestContext<A>) => RouteResult | Promise<RouteResult>,
): RouteResult | Promise<RouteResult> {
  const answer = guard.check(req);
  if (isThenable(answer)) return answer.then((admitted) => (admitted ? next(req) : undefined));
  return answer ? next(req) : undefined;
}

/** For modules with nothing to clean up. */
export const nothingToClose = async (): Promise<void> => {};

/** A client-supplied value, made safe and short for a refusal reason (logged, and sent back as text). */
export function shown(value: string, max = 80): string {
  const clean = value.replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(clean.length > max ? `${clean.slice(0, max)}…` : clean);
}
