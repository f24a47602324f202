import type { BalanceOption } from '../options.js';
import { invalidOption } from '../../kit/option-checks.js';
import type { Balancer } from './balancer.js';
import { balancingPolicies, DEFAULT_BALANCE_POLICY } from './policies.js';

/** The balancer an option names (see `balancingPolicies`), or the caller's own; a fresh one per pool (balancers keep state). */
export function balancerFor(where: string, option: BalanceOption | undefined): Balancer {
  if (option === undefined) return balancingPolicies[DEFAULT_BALANCE_POLICY]();
  if (typeof option === 'string' && Object.hasOwn(balancingPolicies, option)) return balancingPolicies[option]();
  if (typeof option === 'object' && option !== null && typeof option.select === 'function') return option;
  const names = Object.keys(balancingPolicies).map((name) => JSON.stringify(name));
  throw invalidOption(where, `expected ${names.join(', ')} or an object with select(pool, ctx), got ${JSON.stringify(option)}`);
}
