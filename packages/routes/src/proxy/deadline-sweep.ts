/**
 * Deadlines checked by one sweep timer instead of a timer each: proxied upgrades waiting for their connect and
 * then for the upstream's answer. A deadline fires at most a quarter of its duration late (at most one second),
 * as tunnels' idle timeouts do. Delete an item as soon as it is done: one left for the next sweep would keep
 * what it references (a socket) alive past the young generation, which costs more than a timer saves.
 */

/** Something waiting on a deadline. */
export interface Pending {
  /**
   * Called on each sweep: true when it no longer needs watching (done, or expired and dealt with here),
   * false to be checked again.
   */
  check(now: number): boolean;
}

export class DeadlineSweep {
  private readonly items = new Set<Pending>();
  private timer: NodeJS.Timeout | undefined;
  private periodMs = 1000;

  /** Watches `item`, whose deadline is `timeoutMs` away: the sweep runs often enough for the shortest one. */
  add(item: Pending, timeoutMs: number): void {
    this.items.add(item);
    const period = Math.max(25, Math.min(1000, timeoutMs / 4));
    if (period < this.periodMs) {
      this.periodMs = period;
      this.stop();
    }
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.sweep(), this.periodMs);
      this.timer.unref();
    }
  }

  /** Stops watching `item`: call it as soon as the item is done. */
  delete(item: Pending): void {
    this.items.delete(item);
  }

  get size(): number {
    return this.items.size;
  }

  private sweep(): void {
    const now = Date.now();
    for (const item of this.items) if (item.check(now)) this.items.delete(item);
    // The timer stops when nothing is pending and starts again with the next item.
    if (this.items.size === 0) this.stop();
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
