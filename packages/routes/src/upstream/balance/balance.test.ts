/** The balancing policies behind select(pool, ctx): shares, stickiness, and who moves when a node goes down. */
import { describe, expect, it } from 'vitest';
import { parseUpstreamAddress } from '../address.js';
import { UpstreamNode } from '../node.js';
import type { SelectionContext } from './balancer.js';
import { ipHash } from './ip-hash.js';
import { leastConn } from './least-conn.js';
import { roundRobin } from './round-robin.js';

function pool(weights: number[]): UpstreamNode[] {
  return weights.map(
    (weight, i) =>
      new UpstreamNode(
        { address: parseUpstreamAddress(`ws://10.0.0.${i + 1}:80`, 't'), name: `n${i}`, weight, maxFails: 1, failTimeoutMs: 10_000, backup: false, down: false },
        i,
      ),
  );
}

const ctx = (clientIp = '192.0.2.1', tried?: Set<UpstreamNode>): SelectionContext => ({ clientIp, tried, now: Date.now() });

describe('round_robin', () => {
  it('takes turns, each node by its weight, spread out (nginx smooth weighted round-robin)', () => {
    const nodes = pool([5, 1, 1]);
    const rr = roundRobin();
    const picks = Array.from({ length: 7 }, () => rr.select(nodes, ctx())!.name);
    expect(picks).toEqual(['n0', 'n0', 'n1', 'n0', 'n2', 'n0', 'n0']);
  });

  it('skips nodes that are down, unhealthy or already tried', () => {
    const nodes = pool([1, 1, 1]);
    nodes[0]!.down = true;
    nodes[1]!.healthy = false;
    const rr = roundRobin();
    expect(rr.select(nodes, ctx())!.name).toBe('n2');
    expect(rr.select(nodes, ctx('x', new Set([nodes[2]!])))).toBeUndefined();
  });
});

describe('ip_hash', () => {
  const clients = Array.from({ length: 2000 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.${(i * 7) & 255}`);

  it('sends a client to the same node every time, and spreads clients evenly', () => {
    const nodes = pool([1, 1, 1, 1]);
    const h = ipHash();
    const first = clients.map((c) => h.select(nodes, ctx(c))!.name);
    expect(clients.map((c) => h.select(nodes, ctx(c))!.name)).toEqual(first);
    const counts = new Map<string, number>();
    for (const n of first) counts.set(n, (counts.get(n) ?? 0) + 1);
    for (const n of nodes) expect(counts.get(n.name)).toBeGreaterThan(400);
  });

  it('moves only the clients of a node that goes down, and brings them back when it returns', () => {
    const nodes = pool([1, 1, 1, 1]);
    const h = ipHash();
    const before = clients.map((c) => h.select(nodes, ctx(c))!);
    nodes[2]!.healthy = false;
    const during = clients.map((c) => h.select(nodes, ctx(c))!);
    clients.forEach((_, i) => {
      if (before[i] !== nodes[2]) expect(during[i]).toBe(before[i]);
      else expect(during[i]).not.toBe(nodes[2]);
    });
    // The moved clients are spread over the others, not all dumped on one.
    const moved = new Set(during.filter((_, i) => before[i] === nodes[2]).map((n) => n.name));
    expect(moved.size).toBe(3);
    nodes[2]!.healthy = true;
    expect(clients.map((c) => h.select(nodes, ctx(c))!)).toEqual(before);
  });

  it('gives a heavier node a bigger share', () => {
    const nodes = pool([3, 1]);
    const h = ipHash();
    const heavy = clients.filter((c) => h.select(nodes, ctx(c)) === nodes[0]).length;
    expect(heavy / clients.length).toBeGreaterThan(0.68);
    expect(heavy / clients.length).toBeLessThan(0.82);
  });

  it('picks the same node in two pools whose nodes have the same names', () => {
    const a = pool([1, 1, 1]);
    const b = pool([1, 1, 1]);
    const h = ipHash();
    for (const c of clients.slice(0, 100)) expect(h.select(a, ctx(c))!.name).toBe(h.select(b, ctx(c))!.name);
  });
});

describe('least_conn', () => {
  it('picks the node with the fewest active connections for its weight, round-robin among equals', () => {
    const nodes = pool([1, 1, 2]);
    const lc = leastConn();
    nodes[0]!.active = 3;
    nodes[1]!.active = 1;
    nodes[2]!.active = 4;
    expect(lc.select(nodes, ctx())!.name).toBe('n1');
    nodes[1]!.active = 2;
    // n1: 2/1, n2: 4/2 — a tie, taken in turns.
    const picks = new Set([lc.select(nodes, ctx())!.name, lc.select(nodes, ctx())!.name]);
    expect(picks).toEqual(new Set(['n1', 'n2']));
  });
});

describe('passive health', () => {
  it('takes a node out after max_fails within fail_timeout, for fail_timeout', () => {
    const [node] = pool([1]);
    const n = new UpstreamNode({ address: node!.address, name: 'p', weight: 1, maxFails: 2, failTimeoutMs: 1000, backup: false, down: false }, 0);
    n.recordFailure(0, false);
    expect(n.available(1)).toBe(true);
    n.recordFailure(500, false);
    expect(n.available(501)).toBe(false);
    expect(n.available(1500)).toBe(true);
    // Failures further apart than fail_timeout do not add up.
    n.recordFailure(2000, false);
    n.recordFailure(3100, false);
    expect(n.available(3101)).toBe(true);
    // A node alone in its pool is never taken out (nginx).
    n.recordFailure(4000, true);
    n.recordFailure(4001, true);
    expect(n.available(4002)).toBe(true);
  });
});
