/**
 * RFC 3261 §16.7 step 6: the final answer a forking proxy sends when no branch said 2xx — any 6xx, otherwise
 * the lowest class, preferring within 4xx the answers that tell the caller how to try again (401, 407, 415,
 * 420, 484). Ties go to the branch that answered first.
 */
const RETRY_HINTS = new Set([401, 407, 415, 420, 484]);

export function bestResponse<T extends { readonly status: number }>(finals: readonly T[]): T {
  if (finals.length === 0) throw new RangeError('bestResponse: no final responses');
  const global = finals.find((f) => f.status >= 600);
  if (global !== undefined) return global;
  let best = finals[0]!;
  for (const f of finals) {
    const cls = Math.floor(f.status / 100);
    const bestCls = Math.floor(best.status / 100);
    if (cls < bestCls || (cls === bestCls && cls === 4 && RETRY_HINTS.has(f.status) && !RETRY_HINTS.has(best.status))) best = f;
  }
  return best;
}
