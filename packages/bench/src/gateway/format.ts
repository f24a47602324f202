/** Numbers as the benchmarks' tables and logs show them. */

/** Grouped thousands, up to `digits` decimals: `12,345.6`. */
export const fmt = (v: number, digits = 0): string => v.toLocaleString('en-US', { maximumFractionDigits: digits });

/** Exactly `decimals` decimals, or a dash for a figure not measured. */
export function cell(value: number | undefined, decimals: number): string {
  if (value === undefined) return '—';
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** Whether a ratio meets its target: at least it for throughput, at most it for latency and memory. */
export function meets(ratio: number, target: number, better: 'higher' | 'lower'): boolean {
  return better === 'higher' ? ratio >= target : ratio <= target;
}

/** ` ✓` or ` ✗`, or nothing when there is no verdict. */
export function mark(ok: boolean | undefined): string {
  return ok === undefined ? '' : ok ? ' ✓' : ' ✗';
}
