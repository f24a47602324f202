import { smoothWeighted, usable, type Balancer, type SelectionContext } from './balancer.js';
import type { UpstreamNode } from '../node.js';

/** Weighted round-robin (nginx's default): each node in proportion to its weight, evenly spread. */
export function roundRobin(): Balancer {
  return {
    name: 'round_robin',
    select(pool: readonly UpstreamNode[], ctx: SelectionContext) {
      return smoothWeighted(pool, (node) => usable(node, ctx));
    },
  };
}
