/**
 * Per-key hit counts of the current fixed time window and the one before it, in process: what the handshake
 * rate limit counts in when no shared store is given.
 *
 * Two maps, one per window, and the older one dropped whole when time moves on, so keys that stop coming
 * leave with their window: no expiry per key, no sweep, no string keys to build. A hit is one `get` and one
 * `set` on the client's address.
 */
export class WindowCounts {
  private index = -Infinity;
  private current = new Map<string, number>();
  private previous = new Map<string, number>();

  /** @param maxKeys keys counted per window; past it, a new key's hits are not counted (each reads as 1). */
  constructor(private readonly maxKeys: number) {}

  /** Counts a hit for `key` in window `index` (non-decreasing); returns the hits in that window, this one included. */
  hit(key: string, index: number): number {
    if (index !== this.index) this.moveTo(index);
    const n = (this.current.get(key) ?? 0) + 1;
    if (n > 1 || this.current.size < this.maxKeys) this.current.set(key, n);
    return n;
  }

  /** Hits `key` had in the window before the current one. */
  previousHits(key: string): number {
    return this.previous.get(key) ?? 0;
  }

  private moveTo(index: number): void {
    // An index from the past (the clock stepped back) starts afresh, as a jump forward does.
    this.previous = index === this.index + 1 ? this.current : new Map<string, number>();
    this.current = new Map();
    this.index = index;
  }
}
