/**
 * The {@link Store} on Redis, so that several gateways share tokens, revocations, nonce counts, rate counts
 * and registrations.
 *
 * The client is node-redis (`@redis/client`, the `redis` package without its module add-ons): Redis's own
 * recommendation for new Node.js code; no dependencies of its own; TypeScript types in the package; TLS through
 * a `rediss://` URL, password and database through the URL; Sentinel (`createSentinel`) and Cluster
 * (`createCluster`) in the same package for later; and the two things a gateway must have from it, a
 * command timeout that also ends a command already sent (`timeout` with `rejectInFlight`) and no offline
 * queue, so that no call waits on a Redis that is gone. ioredis has most of that too (Sentinel and Cluster
 * longer), but Redis, which maintains both, points new projects to node-redis, and libraries follow
 * (connect-redis dropped ioredis).
 *
 * Faults: while Redis cannot be reached, every call rejects at once (or after `commandTimeout` when Redis
 * stops answering) with a {@link StoreUnavailableError}; the client reconnects by itself, and calls succeed
 * again once Redis is back, with no new store. One warning is logged per outage and one line when it ends;
 * `unavailableCalls` and `outages` count them for the metrics (./store-metrics.ts). A call that timed out may
 * still have been carried out by Redis, as with any client.
 */
import { WsgateError } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import { WRITE_RECORDS } from '../connections/write-records.js';
import { COMPARE_AND_SET, INCREMENT, NOT_INTEGER, RAISE } from './redis-scripts.js';
import { redactedUrl, redisUrlProblem } from './redis-url.js';
import type { Store } from './store.js';

/** @redis/client, loaded by `connect()`: some 300 ms and 9 MB of heap a gateway without Redis does not pay. */
type RedisModule = typeof import('@redis/client');
type Client = ReturnType<typeof makeRedisClient>;
/** The node-redis client a RedisStore holds: what the gateway's connection directory shares (`connection()`). */
export type RedisStoreClient = Client;

export interface RedisStoreOptions {
  /**
   * `redis://[[user]:password@]host[:port][/db]`, or `rediss://…` for TLS. The password is never logged.
   */
  readonly url: string;
  /** Put before every key, so that several deployments can share one Redis (`prod:`). Default none. */
  readonly prefix?: string;
  /** Seconds to reach Redis (each attempt, and at start in all). Default 5. */
  readonly connectTimeout?: number;
  /** Seconds a call waits for Redis's answer before it fails with {@link StoreUnavailableError}. Default 1. */
  readonly commandTimeout?: number;
  /**
   * Redis unreachable at `connect()`: `fail` rejects (the gateway does not start); `degraded` resolves with a
   * warning, calls fail until Redis is reached. Default `fail`.
   */
  readonly onUnavailable?: 'fail' | 'degraded';
  /** Where outages are logged. Default: not logged. */
  readonly logger?: Logger;
}

/** A store call that failed because Redis could not be reached or did not answer in time. */
export class StoreUnavailableError extends WsgateError {
  /** What is wrong, without the advice on fixing it that `message` ends with (when it has some). */
  readonly problem: string;
  constructor(problem: string, options?: { cause?: unknown; fix?: string }) {
    super('WSGATE_STORE_UNAVAILABLE', options?.fix ? `${problem}: ${options.fix}` : problem, options);
    this.problem = problem;
  }
}

/** Replies by which Redis says it cannot serve now, rather than that the call was wrong (the directory's too). */
export const UNAVAILABLE_REPLY = /^(LOADING|READONLY|MASTERDOWN|BUSY|CLUSTERDOWN|TRYAGAIN|OOM|NOAUTH|WRONGPASS)\b/;

/** Reconnect delays: fast at first, so a Redis restart costs well under a second, then at most 1 s apart. */
const reconnectDelay = (retries: number) => Math.min(50 * 2 ** retries, 1000) + Math.floor(Math.random() * 50);

export class RedisStore implements Store {
  /** The URL without its password: what logs and errors show. */
  readonly url: string;
  private readonly counts = { unavailableCalls: 0, outages: 0 };
  private readonly options: RedisStoreOptions;
  private redis!: RedisModule;
  private client!: Client;
  private readonly prefix: string;
  private readonly connectMs: number;
  private readonly commandMs: number;
  private readonly onUnavailable: 'fail' | 'degraded';
  private readonly logger: Logger | undefined;
  private state: 'new' | 'open' | 'closed' = 'new';
  /** Since when Redis is out of reach (ms since the epoch); undefined while it answers. */
  private downSince: number | undefined;
  private lastError: unknown;
  private connecting = false;

  constructor(options: RedisStoreOptions) {
    const problem = redisUrlProblem(options.url);
    if (problem !== undefined) throw new WsgateError('WSGATE_API_MISUSE', `RedisStore: url ${problem}`);
    this.url = redactedUrl(options.url);
    this.prefix = options.prefix ?? '';
    this.connectMs = milliseconds('connectTimeout', options.connectTimeout ?? 5);
    this.commandMs = milliseconds('commandTimeout', options.commandTimeout ?? 1);
    this.onUnavailable = options.onUnavailable ?? 'fail';
    this.logger = options.logger;
    this.options = options;
  }

  /** Calls that failed with {@link StoreUnavailableError}. */
  get unavailableCalls(): number {
    return this.counts.unavailableCalls;
  }

  /** Times Redis went from reachable to not (an unreachable start counts as one). */
  get outages(): number {
    return this.counts.outages;
  }

  /** True while Redis answers (as far as the last call or connection event knows). */
  get available(): boolean {
    return this.state === 'open' && this.downSince === undefined;
  }

  /**
   * Connects. Resolves once Redis answers; when it cannot be reached within `connectTimeout` (or refuses the
   * connection, or the password), rejects with a {@link StoreUnavailableError} naming the URL, or, with
   * `onUnavailable: 'degraded'`, logs a warning and resolves while the client goes on trying in the background.
   */
  async connect(): Promise<void> {
    if (this.state !== 'new') throw new WsgateError('WSGATE_API_MISUSE', 'RedisStore.connect(): called twice, or after close()');
    this.state = 'open';
    this.redis = await import('@redis/client');
    this.client = makeRedisClient(this.redis, this.options.url, this.connectMs, this.commandMs);
    this.client.on('error', (err: unknown) => this.wentDown(err));
    this.client.on('ready', () => this.cameBack());
    this.connecting = true;
    const connected = this.client.connect().then(() => true);
    // The client retries by itself; at start a refusal (or a wrong password) is final unless degraded.
    let onError!: (err: unknown) => void;
    const refused = new Promise<false>((resolve) => (onError = () => resolve(false)));
    this.client.once('error', onError);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), this.connectMs)));
    const ok = await Promise.race([connected.catch(() => false), refused, late]);
    clearTimeout(timer);
    this.client.off('error', onError);
    this.connecting = false;
    if (ok) return;
    const why = `cannot reach Redis at ${this.url} (${reason(this.lastError) ?? `no answer within ${this.connectMs / 1000} s`})`;
    if (this.onUnavailable === 'degraded') {
      if (this.downSince === undefined) {
        this.downSince = Date.now();
        this.counts.outages++;
      }
      this.logger?.warn({ store: this.url }, `${why}; starting degraded: store calls fail until Redis is reached`);
      return;
    }
    this.state = 'closed';
    this.client.destroy();
    throw new StoreUnavailableError(why, {
      cause: this.lastError,
      fix: 'start Redis, or fix store.redis.url (or set store.redis.onUnavailable: degraded to start without it)',
    });
  }

  // get and increment are on every guarded handshake's path: no async wrappers, one promise chain.
  get(key: string): Promise<string | undefined> {
    return this.run(key, () => this.client.get(this.prefix + key), (value) => value ?? undefined);
  }

  async set(key: string, value: string, ttl?: number): Promise<void> {
    const ms = ttlMs(ttl);
    return this.run(key, async () => {
      await this.client.set(this.prefix + key, value, ms === undefined ? undefined : { expiration: { type: 'PX', value: ms } });
    });
  }

  async add(key: string, value: string, ttl?: number): Promise<boolean> {
    const ms = ttlMs(ttl);
    const options = ms === undefined ? { condition: 'NX' as const } : { condition: 'NX' as const, expiration: { type: 'PX' as const, value: ms } };
    return this.run(key, async () => (await this.client.set(this.prefix + key, value, options)) !== null);
  }

  async delete(key: string): Promise<boolean> {
    return this.run(key, async () => (await this.client.del(this.prefix + key)) === 1);
  }

  increment(key: string, by = 1, ttl?: number): Promise<number> {
    const k = this.prefix + key;
    return this.run(
      key,
      () => {
        const ms = ttlMs(ttl);
        if (ms === undefined) return this.client.incrBy(k, by);
        // one script: only a counter with no expiry yet gets one, so later increments keep the window fixed
        return this.client.increment(k, String(by), String(ms));
      },
      Number,
    );
  }

  async raise(key: string, value: number, ttl?: number): Promise<boolean> {
    const ms = ttlMs(ttl);
    return this.run(key, async () => (await this.client.raise(this.prefix + key, String(value), ms === undefined ? '' : String(ms))) === 1);
  }

  async compareAndSet(key: string, expected: string | undefined, value: string | undefined, ttl?: number): Promise<boolean> {
    const ms = ttlMs(ttl);
    return this.run(key, async () => (await this.client.compareAndSet(this.prefix + key, expected, value, ms === undefined ? '' : String(ms))) === 1);
  }

  /**
   * The client, for the same gateway's connection directory to send its commands on this store's connection
   * (one socket: a turn's store calls and directory writes leave in one write to Redis, and wake it once).
   * Undefined before `connect()` and after `close()`. Not for route scripts: they use the `Store` methods.
   */
  connection(): Client | undefined {
    return this.state === 'open' ? this.client : undefined;
  }

  /** Closes the connection: at once when Redis is out of reach, else after the calls in flight. */
  async close(): Promise<void> {
    const was = this.state;
    this.state = 'closed';
    if (was !== 'open') return;
    if (this.client.isReady) await this.client.close().catch(() => this.client.destroy());
    else this.client.destroy();
  }

  /**
   * Runs a call on the client, its answer through `map`; a failure as `failure()` says. Always answers
   * through the promise, never throws (a bad TTL, a store not open).
   */
  private run<R, T = R>(key: string, call: () => Promise<R>, map?: (reply: R) => T): Promise<T> {
    if (this.state !== 'open') {
      return Promise.reject(
        new WsgateError('WSGATE_API_MISUSE', this.state === 'new' ? 'RedisStore: not connected yet: call connect() (gateway.listen() does) before using the store' : 'RedisStore: the store is closed'),
      );
    }
    let reply: Promise<R>;
    try {
      reply = call();
    } catch (err) {
      return Promise.reject(err instanceof WsgateError ? err : this.failure(err, key));
    }
    return reply.then(
      (result) => {
        if (this.downSince !== undefined) this.cameBack();
        return map ? map(result) : (result as unknown as T);
      },
      (err: unknown) => {
        throw this.failure(err, key);
      },
    );
  }

  /** What a failed call rejects with: the typed outage error, or the misuse MemoryStore would report. */
  private failure(err: unknown, key: string): unknown {
    const { ErrorReply, MultiErrorReply } = this.redis;
    const reply = err instanceof MultiErrorReply ? err.replies[err.errorIndexes[0] ?? 0] : err;
    if (reply instanceof ErrorReply && !UNAVAILABLE_REPLY.test(reply.message)) {
      if (reply.message.includes(NOT_INTEGER) || /not an integer/.test(reply.message)) {
        return new WsgateError('WSGATE_API_MISUSE', `store key "${key}" does not hold an integer`);
      }
      return err;
    }
    this.counts.unavailableCalls++;
    this.wentDown(err);
    return new StoreUnavailableError(`store unavailable: Redis at ${this.url}: ${reason(err) ?? 'no answer'}`, { cause: err });
  }

  private wentDown(err: unknown): void {
    this.lastError = err;
    if (this.downSince !== undefined || this.state !== 'open') return;
    this.downSince = Date.now();
    this.counts.outages++;
    // At start, connect() says it once, in its own words.
    if (!this.connecting) this.logger?.warn({ store: this.url, err: reason(err) }, 'Redis store unavailable: store calls fail until it is back');
  }

  private cameBack(): void {
    if (this.downSince === undefined) return;
    const seconds = (Date.now() - this.downSince) / 1000;
    this.downSince = undefined;
    this.logger?.info({ store: this.url, seconds }, 'Redis store available again');
  }
}

/**
 * A node-redis client as the store and the connection directory use one: reconnecting by itself, no offline
 * queue, a command timeout that ends commands in flight too, and both modules' scripts.
 */
export function makeRedisClient(redis: RedisModule, url: string, connectMs: number, commandMs: number) {
  return redis.createClient({
    url,
    socket: { connectTimeout: connectMs, reconnectStrategy: reconnectDelay },
    // Rejected at once while reconnecting, rather than queued for a Redis that may not come back soon.
    disableOfflineQueue: true,
    // A command already sent is ended too: a Redis that stopped answering must not hold a request.
    commandOptions: { timeout: commandMs, rejectInFlight: true },
    scripts: {
      raise: redis.defineScript(RAISE),
      compareAndSet: redis.defineScript(COMPARE_AND_SET),
      increment: redis.defineScript(INCREMENT),
      writeRecords: redis.defineScript(WRITE_RECORDS),
    },
  });
}

function milliseconds(name: string, seconds: number): number {
  if (typeof seconds !== 'number' || !(seconds > 0) || seconds > 2_147_483) {
    throw new WsgateError('WSGATE_API_MISUSE', `RedisStore: ${name} must be a number of seconds above 0, got ${String(seconds)}`);
  }
  return Math.max(1, Math.round(seconds * 1000));
}

/** A TTL in seconds as Redis's `PX` milliseconds (at least 1: `PX 0` is an error in Redis). */
function ttlMs(ttl: number | undefined): number | undefined {
  if (ttl === undefined) return undefined;
  if (typeof ttl !== 'number' || !(ttl > 0) || !Number.isFinite(ttl)) {
    throw new WsgateError('WSGATE_API_MISUSE', `store TTL must be a number of seconds above 0, got ${String(ttl)}`);
  }
  return Math.max(1, Math.round(ttl * 1000));
}

/** A one-line reason: `ECONNREFUSED 127.0.0.1:6399`, `WRONGPASS invalid username-password pair`. */
function reason(err: unknown): string | undefined {
  if (err === undefined || err === null) return undefined;
  const e = err as { code?: unknown; message?: unknown; errors?: unknown };
  // node's AggregateError (IPv4 and IPv6 both refused) has an empty message and the reasons inside.
  if (Array.isArray(e.errors) && e.errors.length > 0) return reason(e.errors[0]);
  const message = typeof e.message === 'string' ? e.message.split('\n')[0]! : String(err);
  return message || (typeof e.code === 'string' ? e.code : undefined);
}
