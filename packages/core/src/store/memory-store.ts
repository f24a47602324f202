import { WsgateError } from '../errors.js';
import type { Store } from './store.js';
import { detachedString } from '../request/detached-string.js';

export interface MemoryStoreOptions {
  /** The most keys kept. Default 100,000. */
  readonly maxEntries?: number;
  /** The clock, in ms (tests pass their own). Default `Date.now`. */
  readonly now?: () => number;
}

interface Entry {
  /** its key, so that the sweep walks entries without a [key, entry] pair per step */
  readonly key: string;
  value: string;
  /** ms since the epoch; Infinity for no expiry. */
  expires: number;
  /** ms since the epoch, when last written. */
  written: number;
}

/** Entries looked at for expiry per write: enough to outpace writes, so that expired keys do not pile up. */
const SWEEP_STEP = 2;

/**
 * The in-process {@link Store}: the default for one gateway process.
 *
 * Expiry costs no timer per key (nor any timer at all): an expired key reads as absent, and every write
 * examines a couple of keys in a round-robin sweep and drops the expired ones. Bounded: when `maxEntries`
 * keys are live, a write first sweeps the whole map (at most once a second), then evicts the oldest-written
 * key. Eviction forgets state (a nonce count, a revocation), so size the bound above the load you expect;
 * `forgottenThrough` says how far back it may have forgotten, for modules that must not trust an absent key.
 */
export class MemoryStore implements Store {
  private readonly map = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly now: () => number;
  private cursor: IterableIterator<Entry> | undefined;
  private lastFullSweep = -Infinity;
  private forgotten = -Infinity;

  constructor(options: MemoryStoreOptions = {}) {
    const max = options.maxEntries ?? 100_000;
    if (!Number.isInteger(max) || max < 1) {
      throw new WsgateError('WSGATE_API_MISUSE', `MemoryStore: maxEntries must be a whole number of at least 1, got ${String(max)}`);
    }
    this.maxEntries = max;
    this.now = options.now ?? Date.now;
  }

  /** See {@link Store.forgottenThrough}: when the newest live key this store dropped to make room was written. */
  get forgottenThrough(): number {
    return this.forgotten;
  }

  /** Live and not yet swept keys. */
  get size(): number {
    return this.map.size;
  }

  async get(key: string): Promise<string | undefined> {
    return this.getNow(key);
  }

  /** get(), synchronously: for in-process callers on a hot path (no promise, no microtask). */
  getNow(key: string): string | undefined {
    return this.live(key, this.now())?.value;
  }

  async set(key: string, value: string, ttl?: number): Promise<void> {
    this.write(key, value, ttl, this.now());
  }

  async add(key: string, value: string, ttl?: number): Promise<boolean> {
    const now = this.now();
    if (this.live(key, now)) return false;
    this.write(key, value, ttl, now);
    return true;
  }

  async delete(key: string): Promise<boolean> {
    return this.live(key, this.now()) !== undefined && this.map.delete(key);
  }

  async increment(key: string, by = 1, ttl?: number): Promise<number> {
    return this.incrementNow(key, by, ttl);
  }

  /** increment(), synchronously: for in-process callers on a hot path (no promise, no microtask). */
  incrementNow(key: string, by = 1, ttl?: number): number {
    const now = this.now();
    const entry = this.live(key, now);
    if (!entry) {
      this.write(key, String(by), ttl, now);
      return by;
    }
    const next = integer(entry.value, key) + by;
    // In place: the expiry (and the write order) stay those of the counter's creation.
    entry.value = String(next);
    return next;
  }

  async raise(key: string, value: number, ttl?: number): Promise<boolean> {
    const now = this.now();
    const entry = this.live(key, now);
    if (entry && integer(entry.value, key) >= value) return false;
    this.write(key, String(value), ttl, now);
    return true;
  }

  async compareAndSet(key: string, expected: string | undefined, value: string | undefined, ttl?: number): Promise<boolean> {
    const now = this.now();
    if (this.live(key, now)?.value !== expected) return false;
    if (value === undefined) this.map.delete(key);
    else this.write(key, value, ttl, now);
    return true;
  }

  async close(): Promise<void> {
    this.map.clear();
  }

  /** The entry if present and not expired at `now` (one reading of the clock per call); an expired one is dropped on the way. */
  private live(key: string, now: number): Entry | undefined {
    const entry = this.map.get(key);
    if (entry === undefined) return undefined;
    if (entry.expires > now) return entry;
    this.map.delete(key);
    return undefined;
  }

  private write(key: string, value: string, ttl: number | undefined, now: number): void {
    this.sweep(now, SWEEP_STEP);
    // Re-inserted so that the map's order stays the order of last writes, oldest first, for eviction.
    this.map.delete(key);
    if (this.map.size >= this.maxEntries) this.makeRoom(now);
    // Copies: a key or value cut out of a request would keep the whole request alive as long as the key lives.
    const own = detachedString(key);
    this.map.set(own, { key: own, value: detachedString(value), expires: ttl === undefined ? Infinity : now + ttl * 1000, written: now });
  }

  private makeRoom(now: number): void {
    if (now - this.lastFullSweep >= 1000) {
      this.lastFullSweep = now;
      this.sweep(now, this.map.size);
    }
    if (this.map.size < this.maxEntries) return;
    // the oldest-written goes (the map is in write order), live: what was written up to then may be forgotten
    const oldest: Entry = this.map.values().next().value!;
    this.map.delete(oldest.key);
    this.forgotten = Math.max(this.forgotten, oldest.written);
  }

  /** Looks at up to `count` keys where the round-robin cursor stands, dropping expired ones. */
  private sweep(now: number, count: number): void {
    for (let i = 0; i < count && this.map.size > 0; i++) {
      this.cursor ??= this.map.values();
      const next = this.cursor.next();
      if (next.done) {
        this.cursor = undefined;
        continue;
      }
      const entry = next.value;
      if (entry.expires <= now) this.map.delete(entry.key);
    }
  }
}

function integer(value: string, key: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new WsgateError('WSGATE_API_MISUSE', `store key "${key}" does not hold an integer`);
  return n;
}
