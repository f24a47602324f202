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
 * Batching (./redis-batch.ts): the calls of one turn of the event loop leave together as one `BATCH` script
 * (a call alone, as its own command). While a batch is out, later calls gather and leave together once it is
 * answered and `GATHER_MS` (3 ms) old, or when the first of them has waited `HOLD_MS` (5 ms). Under load,
 * many handshakes share one write to Redis, one reply and one node-redis command (the scale benchmark: some
 * ten per write at 5,000 handshakes/s); with nothing out, a call leaves at the end of its turn. Calls reach
 * Redis in the order they were made.
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
import { BATCH, eachAnswer, MAX_BATCH, type BatchedCall } from './redis-batch.js';
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
  /** Calls made this turn, for the batch that leaves at its end (./redis-batch.ts). */
  private pending: BatchedCall[] = [];
  /** Batches (or lone calls) sent and not yet answered or failed. */
  private inFlight = 0;
  /** Set while the pending calls wait behind a batch in flight: sends them at the latest HOLD_MS after the first. */
  private hold: NodeJS.Timeout | undefined;
  /** When the last batch left (performance.now()). */
  private lastSent = 0;

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

  // Every call joins its turn's batch (./redis-batch.ts): a guarded handshake's rate count and token read go
  // to Redis as one command. Each answer is mapped from the batch script's shape (which the single commands'
  // replies are put in too, below).
  get(key: string): Promise<string | undefined> {
    return this.queue(key, 'g', NO_ARGS, asValue);
  }

  set(key: string, value: string, ttl?: number): Promise<void> {
    return this.queue(key, 's', () => [value, msArg(ttl)], asNothing);
  }

  add(key: string, value: string, ttl?: number): Promise<boolean> {
    return this.queue(key, 'a', () => [value, msArg(ttl)], asDone);
  }

  delete(key: string): Promise<boolean> {
    return this.queue(key, 'd', NO_ARGS, asDone);
  }

  increment(key: string, by = 1, ttl?: number): Promise<number> {
    // Without a TTL, plain INCRBY; with one, only a counter with no expiry yet gets it (a fixed window).
    return ttl === undefined ? this.queue(key, 'i', () => [String(by)], Number) : this.queue(key, 'I', () => [String(by), msArg(ttl)], Number);
  }

  raise(key: string, value: number, ttl?: number): Promise<boolean> {
    return this.queue(key, 'r', () => [String(value), msArg(ttl)], asDone);
  }

  compareAndSet(key: string, expected: string | undefined, value: string | undefined, ttl?: number): Promise<boolean> {
    return this.queue(key, 'c', () => [expected === undefined ? '0' : '1', expected ?? '', value === undefined ? '0' : '1', value ?? '', msArg(ttl)], asDone);
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
    // Calls of this turn are sent, not dropped: "after the calls in flight" includes them.
    if (was === 'open') this.flush();
    this.state = 'closed';
    if (was !== 'open') return;
    if (this.client.isReady) await this.client.close().catch(() => this.client.destroy());
    else this.client.destroy();
  }

  /**
   * Queues a call for the next batch, its answer through `map`. Always answers through the promise, never
   * throws (a bad TTL, a store not open). With nothing in flight the batch leaves at the end of the turn
   * (`setImmediate`), as node-redis's own writes do; else as sendHeld() says.
   */
  private queue<T>(key: string, code: string, args: () => readonly string[], map: (answer: never) => T): Promise<T> {
    if (this.state !== 'open') {
      return Promise.reject(
        new WsgateError('WSGATE_API_MISUSE', this.state === 'new' ? 'RedisStore: not connected yet: call connect() (gateway.listen() does) before using the store' : 'RedisStore: the store is closed'),
      );
    }
    let values: readonly string[];
    try {
      values = args();
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<unknown>((resolve, reject) => {
      this.pending.push({ key, prefixed: this.prefix + key, code, args: values, resolve, reject });
      if (this.pending.length > 1) return;
      // Nothing out: at the end of this turn. A batch out: behind it (sendHeld), HOLD_MS at the most.
      if (this.inFlight === 0) setImmediate(this.flush);
      else this.hold = setTimeout(this.flush, HOLD_MS);
    }).then(map as (answer: unknown) => T);
  }

  /** Sends the gathered calls: one alone as its own command, several as BATCH scripts of at most MAX_BATCH. */
  private readonly flush = (): void => {
    const calls = this.pending;
    if (calls.length === 0) return;
    this.pending = [];
    this.lastSent = performance.now();
    if (this.hold !== undefined) {
      clearTimeout(this.hold);
      this.hold = undefined;
    }
    if (calls.length === 1) return this.send(calls, () => this.single(calls[0]!));
    for (let i = 0; i < calls.length; i += MAX_BATCH) this.send(calls.length <= MAX_BATCH ? calls : calls.slice(i, i + MAX_BATCH), (batch) => this.client.batch(batch));
  };

  /** Sends `calls` by `command`, counted in flight until answered; each gets its answer or its failure. */
  private send(calls: BatchedCall[], command: (calls: BatchedCall[]) => Promise<unknown>): void {
    let reply: Promise<unknown>;
    try {
      reply = command(calls);
    } catch (err) {
      reply = Promise.reject(err);
    }
    this.inFlight++;
    reply.then(
      (answer) => {
        this.inFlight--;
        if (this.downSince !== undefined) this.cameBack();
        if (calls.length === 1) calls[0]!.resolve(answer);
        else eachAnswer(answer as [unknown[], unknown[]], calls, (call, text) => this.failure(new this.redis.ErrorReply(text), call.key));
        this.sendHeld();
      },
      (err: unknown) => {
        this.inFlight--;
        for (const call of calls) call.reject(this.failure(err, call.key));
        this.sendHeld();
      },
    );
  }

  /** A call alone in its turn: the command (or script) ./store.ts names for it, its reply in the batch's shape. */
  private single(call: BatchedCall): Promise<unknown> {
    const c = this.client;
    const [a0, a1, a2, a3, a4] = call.args as [string, string, string, string, string];
    const k = call.prefixed;
    const px = (ms: string) => (ms === '' ? undefined : { type: 'PX' as const, value: Number(ms) });
    switch (call.code) {
      case 'g':
        return c.get(k);
      case 'd':
        return c.del(k);
      case 'i':
        return c.incrBy(k, Number(a0));
      case 'I':
        return c.increment(k, a0, a1);
      case 's': {
        const expiration = px(a1);
        return c.set(k, a0, expiration ? { expiration } : undefined).then(() => 1);
      }
      case 'a': {
        const expiration = px(a1);
        return c.set(k, a0, expiration ? { condition: 'NX', expiration } : { condition: 'NX' }).then((ok) => (ok === null ? 0 : 1));
      }
      case 'r':
        return c.raise(k, a0, a1);
      default:
        return c.compareAndSet(k, a0 === '1' ? a1 : undefined, a2 === '1' ? a3 : undefined, a4);
    }
  }

  /**
   * Nothing in flight any more: the calls held behind it leave now (node-redis writes them this turn), or, if
   * the last batch left less than GATHER_MS ago, when it is that old (within their HOLD_MS all the same).
   */
  private sendHeld(): void {
    if (this.inFlight !== 0 || this.hold === undefined) return;
    const wait = this.lastSent + GATHER_MS - performance.now();
    if (wait <= 0) return this.flush();
    // Answered quickly: the calls gather a little longer, so that a busy gateway writes to Redis every few ms
    // rather than once per round trip (each write and reply costs both processes syscalls and a wake-up).
    clearTimeout(this.hold);
    // Whole ms: node keeps one timer list per duration.
    this.hold = setTimeout(this.flush, Math.ceil(wait));
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
      batch: redis.defineScript(BATCH),
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

/**
 * The most a call waits behind the batch in flight before it is sent anyway (ms): a Redis slower than that to
 * answer gets the calls pipelined, as without the wait.
 */
const HOLD_MS = 5;
/**
 * While busy, batches leave at most this often (ms): the gathered calls wait for the batch in flight to be
 * answered and for it to be this old. Under load, each write to Redis then carries many handshakes' calls.
 */
const GATHER_MS = 3;

const NO_ARGS = (): readonly string[] => [];
const asValue = (answer: string | null): string | undefined => answer ?? undefined;
const asNothing = (): void => undefined;
const asDone = (answer: number): boolean => answer === 1;

/** A TTL as the scripts' `ms` argument: PX milliseconds, or empty for no expiry. */
function msArg(ttl: number | undefined): string {
  const ms = ttlMs(ttl);
  return ms === undefined ? '' : String(ms);
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
