/**
 * Runs two (or one) servers' loads in alternating slices — a warm-up each, then A B, B A, A B, … — and adds up
 * each side's counts. Whatever else the machine does meanwhile (other processes, timers, the kernel) then falls
 * on both servers alike, instead of on whichever happened to run during it.
 */
import { addCounts, type SliceTotal, type SlicedLoad } from './phases/slice.js';

export interface InterleaveOptions {
  /** Uncounted run of each load first: JIT, buffers, caches. */
  readonly warmupMs: number;
  /** Uncounted start of every slice. */
  readonly rampMs: number;
  /** Counted part of every slice. */
  readonly sliceMs: number;
  /** Slices per load. */
  readonly slices: number;
}

export async function interleave<S extends string>(
  loads: Readonly<Record<S, SlicedLoad>>,
  order: readonly S[],
  options: InterleaveOptions,
): Promise<Record<S, SliceTotal>> {
  const totals = {} as Record<S, SliceTotal>;
  for (const side of order) {
    await loads[side].run(options.warmupMs, 0);
    totals[side] = { count: 0, bytes: 0, seconds: 0, slices: 0, emptySlices: 0 };
  }
  for (let i = 0; i < options.slices; i++) {
    for (const side of i % 2 === 0 ? order : [...order].reverse()) {
      addCounts(totals[side], await loads[side].run(options.rampMs, options.sliceMs));
    }
  }
  return totals;
}
