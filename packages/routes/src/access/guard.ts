/**
 * The one shape every access-control and authentication module has (DESIGN.md convention 7): a factory
 * validates its options at start-up and returns a `Guard`, which a route calls in one line.
 */
import type { RequestContext } from '@wsgate/core';

/**
 * An access check made by a factory such as `origin({...})`, `basicAuth({...})` or `rateLimit({...})`.
 *
 * `check()` resolves true when the request may go on. When it resolves false the module has already taken
 * the refusal action (`req.refuse(status, name, reason)`: a 401, 403, 429 or 503 with the right headers,
 * logged with the client's real IP and counted under `name`), so the route only returns:
 *
 * ```ts
 * if (!(await auth.check(req))) return;
 * ```
 *
 * Modules that identify someone (basic, digest, cookie token, auth hook) record it in the request's
 * attributes, which the WebSocket connection inherits (`conn.get('user')`).
 */
export interface Guard {
  /** What refusals are logged and counted under: `origin`, `host`, `basic`, `digest`, `cookie-token`, … */
  readonly name: string;
  /** Admit (true), or refuse (false, the refusal already taken). Never rejects for a request's fault. */
  check(req: RequestContext<any>): Promise<boolean>;
  /** Stops what the module does in the background (file checks, timers, open sockets). Idempotent. */
  close(): Promise<void>;
}

/**
 * Several guards as one, run in order until one refuses: put the cheapest and broadest first
 * (`allOf(rateLimit(...), origin(...), cookieToken(...))`). `close()` closes them all.
 */
export function allOf(...guards: readonly Guard[]): Guard {
  return {
    name: guards.map((g) => g.name).join('+'),
    async check(req) {
      for (const guard of guards) if (!(await guard.check(req))) return false;
      return true;
    },
    async close() {
      await Promise.all(guards.map((g) => g.close()));
    },
  };
}

/** For modules with nothing to clean up. */
export const nothingToClose = async (): Promise<void> => {};

/** A client-supplied value, made safe and short for a refusal reason (logged, and sent back as text). */
export function shown(value: string, max = 80): string {
  const clean = value.replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(clean.length > max ? `${clean.slice(0, max)}…` : clean);
}
