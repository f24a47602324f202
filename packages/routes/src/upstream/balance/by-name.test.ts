/** The `balance` option: a policy named in `balancingPolicies`, or the caller's own `select(pool, ctx)`. */
import { describe, expect, it } from 'vitest';
import { WsgateError } from '@wsgate/core';
import type { Balancer } from './balancer.js';
import { balancerFor } from './by-name.js';
import { balancingPolicies, type BalancePolicyName } from './policies.js';

describe('balancerFor', () => {
  it('makes a fresh balancer of each named policy, round_robin when none is named', () => {
    for (const name of Object.keys(balancingPolicies) as BalancePolicyName[]) {
      const made = balancerFor('t.balance', name);
      expect(made.name).toBe(name);
      expect(balancerFor('t.balance', name)).not.toBe(made);
    }
    expect(balancerFor('t.balance', undefined).name).toBe('round_robin');
  });

  it("takes the caller's own balancer as it is", () => {
    const own: Balancer = { name: 'mine', select: () => undefined };
    expect(balancerFor('t.balance', own)).toBe(own);
  });

  it('refuses an unknown name, naming the field and every policy of the map', () => {
    for (const bad of ['random', 'toString', 42, null]) {
      let error: unknown;
      try {
        balancerFor('streamRelay().balance', bad as never);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(WsgateError);
      const known = Object.keys(balancingPolicies).map((name) => `"${name}"`).join(', ');
      expect((error as WsgateError).message).toBe(`streamRelay().balance: expected ${known} or an object with select(pool, ctx), got ${JSON.stringify(bad)}`);
      expect((error as WsgateError).code).toBe('WSGATE_CONFIG_INVALID');
    }
  });
});
