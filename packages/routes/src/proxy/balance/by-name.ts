import type { BalanceOption } from '../options.js';
import { invalidOption } from '../option-checks.js';
import type { Balancer } from './balancer.js';
import { ipHash } from './ip-hash.js';
import { leastConn } from './least-conn.js';
import { roundRobin } from './round-robin.js';

/** The balancer an option names, or the caller's own; a fresh one per pool (balancers keep state). */
export function balancerFor(where: string, option: BalanceOption | undefined): Balancer {
  if (option === undefined || option === 'round_robin') return roundRobin();
  if (option === 'ip_hash') return ipHash();
  if (option === 'least_conn') return leastConn();
  if (typeof option === 'object' && option !== null && typeof option.select === 'function') return option;
  throw invalidOption(where, `expected "round_robin", "ip_hash", "least_conn" or an object with select(pool, ctx), got ${JSON.stringify(option)}`);
}
