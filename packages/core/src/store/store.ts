/**
 * The key-value store route modules keep their state in: cookie tokens, digest nonce counts, rate counters,
 * revocations. One process uses `MemoryStore`; several gateways share one store (Redis) so that a token
 * issued, a nonce count seen or a handshake counted on one node holds on all.
 *
 * Every method is one atomic step on the server side, so that two nodes racing on a key cannot both win.
 * Each method's TSDoc says the Redis command (or short Lua script) it maps to; `RedisStore` is a thin class
 * over node-redis that does exactly that for a call alone, and sends calls made together as one script that
 * runs each of them, in call order, as those commands would (./redis-batch.ts): same effects, same answers,
 * one call's error its own. TTLs are in seconds, fractions allowed (Redis: `PX` in ms); an absent TTL means
 * no expiry. Values are strings; counters are decimal integers, as Redis keeps them.
 *
 * Keys: modules prefix theirs (`wsgate:digest:nc:…`, `wsgate:rate:…`) and never put secrets in them (a
 * token is stored under its hash), since keys show up in `MONITOR` and `SCAN`.
 */
export interface Store {
  /** The value, or undefined when absent or expired. Redis: `GET key`. */
  get(key: string): Promise<string | undefined>;

  /**
   * Optional. ms since the epoch: a key last written at or before it may have been dropped before its TTL, to
   * make room (a `MemoryStore` at its `maxEntries` drops the oldest-written key). Absent or -Infinity: no live key
   * was dropped. A module whose safety rests on a key being there (a digest nonce count: gone, a replay would
   * pass) treats what it wrote before this as unknown. A Redis store has none: Redis evicts nothing under its
   * default `maxmemory-policy noeviction`.
   */
  readonly forgottenThrough?: number;

  /** Sets the value, replacing any, with a new TTL. Redis: `SET key value [PX ms]`. */
  set(key: string, value: string, ttl?: number): Promise<void>;

  /**
   * Sets the value only if the key is absent (or expired); true when it did. For "first one wins" records.
   * Redis: `SET key value NX [PX ms]` (reply OK or nil).
   */
  add(key: string, value: string, ttl?: number): Promise<boolean>;

  /** Removes the key; true when it was there. Redis: `DEL key` (reply 1 or 0). */
  delete(key: string): Promise<boolean>;

  /**
   * Adds `by` to an integer counter and returns the new value; an absent key counts from 0. The TTL applies
   * when the counter is created and is not extended by later increments (a fixed window).
   * Redis: `INCRBY key by` alone without a TTL; with one, a Lua script (`INCREMENT` in ./redis-scripts.ts):
   * `INCRBY`, then `PEXPIRE key ms` when `PTTL` says the key has no expiry — one command on the wire where
   * `MULTI; INCRBY; PEXPIRE NX; EXEC` would be four (a rate limit runs it on every handshake).
   */
  increment(key: string, by?: number, ttl?: number): Promise<number>;

  /**
   * Raises an integer to `value` if `value` is greater than what is stored (an absent key is lower than
   * anything), resetting the TTL; true when it did. For "must strictly increase" checks such as digest
   * nonce counts. A value that is not an integer is an error, as for `increment`. Redis, as a Lua script
   * (`RAISE` in ./redis-scripts.ts): `local v = redis.call('GET', KEYS[1])` — not an integer: an error;
   * `>= ARGV[1]`: `return 0` — else `redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1`.
   */
  raise(key: string, value: number, ttl?: number): Promise<boolean>;

  /**
   * Compare-and-set: only if the key's value is `expected` now (`undefined`: the key is absent or expired),
   * sets it to `value` with a new TTL, or deletes it when `value` is undefined; true when it did. For records
   * that several gateways read, change and write back (a SIP registration's bindings): of two racing
   * writers that read the same value, exactly one wins and the other reads again. Redis, as a Lua script
   * (`COMPARE_AND_SET` in ./redis-scripts.ts): `local v = redis.call('GET', KEYS[1])` — not `expected`:
   * `return 0` — else `SET KEYS[1] value [PX ms]` or `DEL KEYS[1]`, `return 1`.
   */
  compareAndSet(key: string, expected: string | undefined, value: string | undefined, ttl?: number): Promise<boolean>;

  /** Lets go of what the store holds open (a Redis connection); the memory store has nothing to free. */
  close(): Promise<void>;
}
