/**
 * One figure of a benchmark: opens each side's load, runs them in interleaved slices, closes them (also on
 * failure), and turns each side's total into the figure's number. A side that counted nothing fails the
 * run, with the load's hint; slices that counted nothing are reported as stalls.
 */
import { interleave, type InterleaveOptions } from './interleave.js';
import { HandshakeLoad } from './phases/handshakes.js';
import type { SliceCount, SlicedLoad } from './phases/slice.js';

export interface Sides<S extends string> {
  /** In the order the slices alternate. */
  readonly order: readonly S[];
  readonly names: Readonly<Record<S, string>>;
  readonly slicing: InterleaveOptions;
  readonly log: (message: string) => void;
}

export async function measure<S extends string, L extends SlicedLoad>(
  sides: Sides<S>,
  title: string,
  open: (side: S) => L | Promise<L>,
  value: (total: SliceCount, load: L, side: S) => number,
  show: (v: number) => string,
): Promise<Partial<Record<S, number>>> {
  sides.log(title);
  const loads = {} as Record<S, L>;
  try {
    for (const side of sides.order) loads[side] = await open(side);
    const totals = await interleave(loads, sides.order, sides.slicing);
    const out: Partial<Record<S, number>> = {};
    for (const side of sides.order) {
      const total = totals[side];
      if (total.count === 0) throw new Error(`${sides.names[side]}: nothing came back in ${total.slices} slices${hint(loads[side])}`);
      const v = value(total, loads[side], side);
      out[side] = v;
      const stalls = total.emptySlices > 0 ? ` (${total.emptySlices} of ${total.slices} slices counted nothing: a stall)` : '';
      sides.log(`  ${sides.names[side]}: ${show(v)}${stalls}`);
    }
    return out;
  } finally {
    await Promise.all(Object.values<L>(loads).map((l) => l.close()));
  }
}

function hint(load: SlicedLoad): string {
  return load instanceof HandshakeLoad ? ` (${load.firstError ?? 'no error seen'})` : ' (is the subprotocol served?)';
}
