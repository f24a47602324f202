/**
 * The deadlines of many transactions on one timer (as Kamailio's tm keeps its timer lists), instead of a node
 * timer each: arming puts an item in the bucket of its due time, cancelling takes it out — a few map
 * operations, no timer object per transaction. Buckets are `resolution` ms wide: a deadline fires once its
 * bucket's time has passed, at most `resolution` ms late and never early. The one timer runs only while a
 * deadline is armed, and does not keep the process alive.
 */
export class Deadlines<T> {
  /** Bucket (due time ÷ resolution, rounded up) → the items due then. */
  private readonly buckets = new Map<number, Set<T>>();
  /** Item → its bucket. */
  private readonly due = new Map<T, number>();
  private timer: NodeJS.Timeout | undefined;
  /** The bucket the timer is set for (Infinity: no timer). */
  private next = Infinity;

  constructor(
    private readonly resolution: number,
    private readonly expire: (item: T) => void,
  ) {
    if (!(resolution >= 1)) throw new RangeError(`Deadlines: resolution must be at least 1 ms, got ${resolution}`);
  }

  /** Items armed now. */
  get size(): number {
    return this.due.size;
  }

  /** `item` is due in `ms` (an earlier deadline of it is cancelled). */
  arm(item: T, ms: number): void {
    this.cancel(item);
    const bucket = Math.ceil((Date.now() + ms) / this.resolution);
    let items = this.buckets.get(bucket);
    if (items === undefined) this.buckets.set(bucket, (items = new Set()));
    items.add(item);
    this.due.set(item, bucket);
    if (bucket < this.next) this.schedule(bucket);
  }

  /** `item` is no longer due (nothing when it was not armed). */
  cancel(item: T): void {
    const bucket = this.due.get(item);
    if (bucket === undefined) return;
    this.due.delete(item);
    // absent while its bucket is being expired (fire() took it out)
    const items = this.buckets.get(bucket);
    items?.delete(item);
    if (items?.size === 0) this.buckets.delete(bucket);
    // the timer stays: when it fires it finds nothing due and sets itself for the next bucket, or stops
  }

  /** Forgets every deadline and stops the timer. */
  clear(): void {
    this.buckets.clear();
    this.due.clear();
    this.stop();
  }

  private schedule(bucket: number): void {
    clearTimeout(this.timer);
    this.next = bucket;
    this.timer = setTimeout(() => this.fire(), Math.max(0, bucket * this.resolution - Date.now()));
    this.timer.unref();
  }

  private stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.next = Infinity;
  }

  private fire(): void {
    this.timer = undefined;
    this.next = Infinity;
    const now = Math.floor(Date.now() / this.resolution);
    // the due buckets first, taken out before any item expires: an expiry may arm again (a later bucket)
    const dueNow: Array<readonly [number, Set<T>]> = [];
    for (const [bucket, items] of this.buckets) {
      if (bucket > now) continue;
      this.buckets.delete(bucket);
      dueNow.push([bucket, items]);
    }
    for (const [bucket, items] of dueNow) {
      for (const item of items) {
        // one expiry may have cancelled or re-armed another item of the same bucket
        if (this.due.get(item) !== bucket) continue;
        this.due.delete(item);
        this.expire(item);
      }
    }
    let earliest = Infinity;
    for (const bucket of this.buckets.keys()) if (bucket < earliest) earliest = bucket;
    if (earliest === Infinity) this.stop();
    else if (earliest < this.next || this.timer === undefined) this.schedule(earliest);
  }
}
