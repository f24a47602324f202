/**
 * Per-client-IP limits, as nginx's `limit_req` / `limit_conn` and Kamailio's `pike`: how many handshakes a
 * client may start per window, and how many WebSockets it may hold open at once. The client is the real IP
 * (core's `realIp`), so clients behind a trusted proxy are told apart.
 */
import { isThenable, MemoryStore, type Gateway, type RequestContext, type Store } from '@wsgate/core';
import { integer, invalidOption, knownKeys, seconds } from '../kit/option-checks.js';
import type { Guard } from '../kit/guard.js';
import { STORE_RETRY_AFTER, StoreOutage, storePolicyOption, type StoreUnavailablePolicy } from '../kit/store-outage.js';
import { WindowCounts } from './window-counts.js';

/** Client addresses counted per window by the in-process count; past it, new ones go uncounted. */
const MAX_COUNTED_CLIENTS = 100_000;

export interface RateLimitOptions {
  /**
   * At most `limit` handshakes per client IP in any `window` seconds (default 1): a sliding window, counted
   * in the store, so several gateways sharing a Redis store share the count. Refused attempts count too,
   * so a client that keeps flooding stays refused.
   */
  readonly handshakes?: { readonly limit: number; readonly window?: number };
  /**
   * At most `max` WebSockets open per client IP on this gateway (counted from its own open and close events,
   * so a limit per process). `retryAfter` seconds are suggested when refused (default 5). Handshakes still in
   * flight are not counted: a burst of simultaneous ones can pass the limit by their number.
   */
  readonly connections?: { readonly max: number; readonly retryAfter?: number };
  /** The gateway whose connections `connections` counts (the route script's factory gets it); its metrics count store outages. */
  readonly gateway?: Gateway;
  /**
   * Where handshakes are counted, for a count shared by several gateways (a Redis-backed store). Default:
   * in this process, up to 100,000 client addresses per window (past that, new ones are not limited).
   */
  readonly store?: Store;
  /**
   * When `store` cannot be reached (Redis down: `WSGATE_STORE_UNAVAILABLE`): `open` admits the handshake
   * uncounted, `closed` refuses it with 503 and `Retry-After`. Logged once per outage, and counted in
   * `wsgate_route_store_unavailable_total{module="rate-limit"}` when `gateway` is given. Default `open`.
   */
  readonly onStoreUnavailable?: StoreUnavailablePolicy;
  /** The refusal status: 429 Too Many Requests (default) or 503 Service Unavailable (nginx's default). */
  readonly status?: 429 | 503;
}

/**
 * Refuses with 429 (or 503) and `Retry-After` a client over its handshake rate or connection count.
 * @example const limits = rateLimit({ handshakes: { limit: 10 }, connections: { max: 20 }, gateway });
 * @throws {WsgateError} `WSGATE_CONFIG_INVALID` for bad numbers, no limit at all, or `connections` without `gateway`.
 */
export function rateLimit(options: RateLimitOptions): Guard {
  const o = knownKeys('rateLimit()', options, ['handshakes', 'connections', 'gateway', 'store', 'onStoreUnavailable', 'status']);
  if (o.handshakes === undefined && o.connections === undefined) {
    throw invalidOption('rateLimit()', 'give handshakes: { limit } and/or connections: { max }');
  }
  const status = integer('rateLimit().status', o.status, 429, 429, 503);
  if (status !== 429 && status !== 503) throw invalidOption('rateLimit().status', 'expected 429 or 503');
  const policy = storePolicyOption('rateLimit().onStoreUnavailable', o.onStoreUnavailable, 'open');
  const gateway = o.gateway as Gateway | undefined;
  const outage = new StoreOutage('rate-limit', 'handshake counts', policy, typeof gateway?.metrics?.counter === 'function' ? gateway.metrics : undefined);
  const rate = o.handshakes === undefined ? undefined : handshakeWindow(knownKeys('rateLimit().handshakes', o.handshakes, ['limit', 'window']), o.store as Store | undefined);
  const open = o.connections === undefined ? undefined : connectionCount(knownKeys('rateLimit().connections', o.connections, ['max', 'retryAfter']), gateway);

  const refuse = (req: RequestContext<any>, over: Over): false => {
    req.refuse(over.status ?? status, 'rate-limit', over.reason, { 'Retry-After': String(over.retryAfter) });
    return false;
  };
  return {
    name: 'rate-limit',
    check(req) {
      const ip = req.clientIp;
      const busy = open?.over(ip);
      if (busy !== undefined) return refuse(req, busy);
      const fast = rate?.over(ip);
      if (fast === undefined) return true;
      // The in-process count answers at once; a shared store through a promise.
      if (!isThenable(fast)) return refuse(req, fast);
      return fast.then(
        (over) => {
          outage.answered(req.log);
          return over === undefined || refuse(req, over);
        },
        (err: unknown) => outage.failed(err, req.log) || refuse(req, { status: 503, reason: 'rate-limit store unavailable', retryAfter: STORE_RETRY_AFTER }),
      );
    },
    async close() {
      open?.stop();
    },
  };
}

interface Over {
  /** Other than the configured status: 503 when the store is out of reach. */
  readonly status?: number;
  readonly reason: string;
  readonly retryAfter: number;
}

/**
 * Sliding-window counter (the approximation nginx-like limiters and Cloudflare use): the current fixed
 * window's count plus the previous one's, weighted by how much of it still overlaps the sliding window.
 * One atomic increment per handshake, so it works unchanged on a shared store.
 */
function handshakeWindow(o: Record<string, unknown>, store: Store | undefined) {
  if (o.limit === undefined) throw invalidOption('rateLimit().handshakes.limit', 'is required: the handshakes allowed per window, e.g. 10');
  const limit = integer('rateLimit().handshakes.limit', o.limit, 0, 1);
  const windowSeconds = seconds('rateLimit().handshakes.window', o.window, 1, 0.01, 86_400);
  const windowMs = windowSeconds * 1000;
  // In process (the default, or a MemoryStore given) the count answers at once: no promise per handshake.
  const own = store === undefined ? new WindowCounts(MAX_COUNTED_CLIENTS) : undefined;
  const local = store instanceof MemoryStore ? store : undefined;
  // With a shared store: the totals of the window before `closedIndex`, by client, read once (below).
  let closedIndex = -1;
  const closedCounts = new Map<string, number>();
  const verdict = (ip: string, into: number, current: number, previous: number): Over | undefined => {
    if (current <= limit && previous * (1 - into / windowMs) + current <= limit) return undefined;
    return {
      reason: `more than ${limit} handshakes in ${windowSeconds} s from ${ip}`,
      retryAfter: Math.max(1, Math.ceil((windowMs - into) / 1000)),
    };
  };
  return {
    over(ip: string): Over | undefined | Promise<Over | undefined> {
      const now = Date.now();
      const index = Math.floor(now / windowMs);
      const into = now - index * windowMs;
      // Over the limit in this window alone needs no second look at the previous one.
      if (own) {
        const current = own.hit(ip, index);
        return verdict(ip, into, current, current <= limit ? own.previousHits(ip) : 0);
      }
      const prefix = `wsgate:rate:hs:${ip}:`;
      // Two windows of life: the counter is read as "previous" during the next one.
      if (local) {
        const current = local.incrementNow(prefix + index, 1, 2 * windowSeconds);
        return verdict(ip, into, current, current <= limit ? Number(local.getNow(prefix + (index - 1)) ?? 0) : 0);
      }
      // A window that has ended counts no more hits: its total, read once, is kept here for the rest of the
      // current window, so a shared store sees one call per handshake, not two.
      if (closedIndex !== index) {
        closedIndex = index;
        closedCounts.clear();
      }
      const previous = closedCounts.get(ip);
      try {
        // Both calls in this turn: on a Redis store they leave as one command (core's redis-batch.ts).
        const counted = store!.increment(prefix + index, 1, 2 * windowSeconds);
        if (previous !== undefined) return counted.then((current) => verdict(ip, into, current, current <= limit ? previous : 0));
        return Promise.all([counted, store!.get(prefix + (index - 1))]).then(([current, read]) => {
          const closed = Number(read ?? 0);
          if (closedIndex === index && closedCounts.size < MAX_COUNTED_CLIENTS) closedCounts.set(ip, closed);
          return verdict(ip, into, current, current <= limit ? closed : 0);
        });
      } catch (err) {
        // A store that throws rather than rejects is answered the same way (onStoreUnavailable, or a 500).
        return Promise.reject(err);
      }
    },
  };
}

/**
 * Open WebSockets per client IP, terminated and proxied alike, kept from the connection directory's opens and
 * closes (a subscription, not mounted routes: a reload that swaps the route sets does not lose the count).
 * A handshake reads one map entry: the directory is not asked.
 */
function connectionCount(o: Record<string, unknown>, gateway: Gateway | undefined) {
  if (o.max === undefined) throw invalidOption('rateLimit().connections.max', 'is required: the WebSockets one client IP may hold open, e.g. 20');
  const max = integer('rateLimit().connections.max', o.max, 0, 1);
  const retryAfter = Math.ceil(seconds('rateLimit().connections.retryAfter', o.retryAfter, 5, 1, 86_400));
  if (!gateway || typeof gateway.connections?.subscribe !== 'function') {
    throw invalidOption('rateLimit().gateway', 'connections: { max } counts the gateway\'s connections: pass { gateway } (a route factory receives it)');
  }
  const open = new Map<string, number>();
  // Connections already open count too (`current`): a limiter made on reload starts from the truth.
  const unsubscribe = gateway.connections.subscribe(
    {
      opened(conn) {
        open.set(conn.remoteAddress, (open.get(conn.remoteAddress) ?? 0) + 1);
      },
      closed(conn) {
        const n = open.get(conn.remoteAddress);
        if (n === undefined) return;
        if (n <= 1) open.delete(conn.remoteAddress);
        else open.set(conn.remoteAddress, n - 1);
      },
    },
    { current: true },
  );
  return {
    over(ip: string): Over | undefined {
      const n = open.get(ip) ?? 0;
      return n < max ? undefined : { reason: `${n} WebSockets already open from ${ip} (at most ${max})`, retryAfter };
    },
    stop() {
      unsubscribe();
      open.clear();
    },
  };
}
