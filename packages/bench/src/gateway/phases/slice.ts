/**
 * A load that can be switched on for a slice of time and off again. The figures run their two servers'
 * loads in alternating short slices (A B, B A, …) rather than one long window each, so that whatever else
 * the machine does meanwhile falls on both servers alike.
 */

/** What one slice counted. */
export interface SliceCount {
  /** Answers (messages or handshakes) counted in the window. */
  count: number;
  /** Answer payload bytes counted in the window. */
  bytes: number;
  /** The window's length, measured. */
  seconds: number;
}

export interface SlicedLoad {
  /**
   * Starts the load, lets it run `rampMs` uncounted, counts for `windowMs`, then stops it and waits until
   * nothing it sent is still in flight (bounded in time).
   */
  run(rampMs: number, windowMs: number): Promise<SliceCount>;
  /** Frees the connections. */
  close(): Promise<void>;
}

/** The sum of a load's slices, and how many of them counted nothing (a stalled server, or machine). */
export interface SliceTotal extends SliceCount {
  slices: number;
  emptySlices: number;
}

export function addCounts(total: SliceTotal, slice: SliceCount): void {
  total.count += slice.count;
  total.bytes += slice.bytes;
  total.seconds += slice.seconds;
  total.slices++;
  if (slice.count === 0) total.emptySlices++;
}
