/**
 * The balancing policies a pool or relay names in its `balance` option (docs/design.md convention 7), by that
 * name: `BalanceOption` is derived from this map and `balancerFor()` looks names up in it. A new policy is one
 * entry here (and its line in proxy/README.md). Each entry makes a fresh balancer: balancers keep state per pool.
 */
import type { Balancer } from './balancer.js';
import { ipHash } from './ip-hash.js';
import { leastConn } from './least-conn.js';
import { roundRobin } from './round-robin.js';

/** Policies by name, in the order error messages list them. */
export const balancingPolicies = {
  /** Weighted round-robin, nginx's default. */
  round_robin: roundRobin,
  /** Rendezvous hashing on the client's real IP: a client stays on its node. */
  ip_hash: ipHash,
  /** The fewest requests and tunnels in flight for the node's weight. */
  least_conn: leastConn,
} as const satisfies Readonly<Record<string, () => Balancer>>;

export type BalancePolicyName = keyof typeof balancingPolicies;

/** The policy of a pool or relay whose `balance` is not given. */
export const DEFAULT_BALANCE_POLICY: BalancePolicyName = 'round_robin';
