import { smoothWeighted, usable, type Balancer, type SelectionContext } from './balancer.js';
import type { UpstreamNode } from '../node.js';

/**
 * Least connections (nginx `least_conn`): the node with the fewest requests and tunnels in flight for its
 * weight; ties go round-robin, so an idle pool still spreads its first requests.
 */
export function leastConn(): Balancer {
  return {
    name: 'least_conn',
    select(pool: readonly UpstreamNode[], ctx: SelectionContext) {
      let min = Infinity;
      for (const node of pool) {
        if (usable(node, ctx)) min = Math.min(min, node.active / node.weight);
      }
      if (min === Infinity) return undefined;
      return smoothWeighted(pool, (node) => node.active / node.weight === min && usable(node, ctx));
    },
  };
}
