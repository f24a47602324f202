/**
 * Balancing policies behind one interface (docs/design.md convention 7, after Caddy's selection policies): a pool
 * asks its balancer for a node among its primaries, then among its backups, with what it knows of the request.
 */
import type { UpstreamNode } from '../node.js';

/** What a balancer may base its choice on. */
export interface SelectionContext {
  /** The client's real IP (`req.clientIp`). */
  readonly clientIp: string;
  /** Nodes this request already failed on; undefined on the first attempt. */
  readonly tried: ReadonlySet<UpstreamNode> | undefined;
  /** `Date.now()` once per selection. */
  readonly now: number;
}

/** A balancing policy: `select` returns one usable node of `pool` (see {@link usable}), or undefined. */
export interface Balancer {
  readonly name: string;
  select(pool: readonly UpstreamNode[], ctx: SelectionContext): UpstreamNode | undefined;
}

/** A node a balancer may choose: available now and not yet tried for this request. */
export function usable(node: UpstreamNode, ctx: SelectionContext): boolean {
  return node.available(ctx.now) && (ctx.tried === undefined || !ctx.tried.has(node));
}

/**
 * nginx's smooth weighted round-robin among the nodes `accept` keeps: over any window of Σweight picks each
 * node gets its weight's share, spread out rather than in bursts (5,1,1 → a a b a c a a).
 */
export function smoothWeighted(pool: readonly UpstreamNode[], accept: (node: UpstreamNode) => boolean): UpstreamNode | undefined {
  let best: UpstreamNode | undefined;
  let total = 0;
  for (let i = 0; i < pool.length; i++) {
    const node = pool[i]!;
    if (!accept(node)) continue;
    node.currentWeight += node.weight;
    total += node.weight;
    if (best === undefined || node.currentWeight > best.currentWeight) best = node;
  }
  if (best) best.currentWeight -= total;
  return best;
}
