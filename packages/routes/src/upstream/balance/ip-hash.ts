import { usable, type Balancer, type SelectionContext } from './balancer.js';
import type { UpstreamNode } from '../node.js';

/**
 * `ip_hash` by rendezvous (highest random weight) hashing on `req.clientIp` and each node's name: every
 * client ranks the nodes in its own fixed order and goes to the first usable one. A node going down moves
 * only its own clients (each to its next choice), and they come back when it does; adding a node takes
 * a fair share from every other. Weights scale a node's share (weighted rendezvous, `-w / ln(u)`).
 *
 * Unlike nginx, which hashes the first three octets of an IPv4 address, the whole address counts: clients
 * behind one /24 are spread too. Pools whose nodes share names send a client to the same node.
 */
export function ipHash(): Balancer {
  return {
    name: 'ip_hash',
    select(pool: readonly UpstreamNode[], ctx: SelectionContext) {
      const key = hashString(ctx.clientIp, 0x811c9dc5);
      let best: UpstreamNode | undefined;
      let bestScore = -Infinity;
      for (let i = 0; i < pool.length; i++) {
        const node = pool[i]!;
        if (!usable(node, ctx)) continue;
        const score = rendezvousScore(key, node);
        if (score > bestScore) {
          bestScore = score;
          best = node;
        }
      }
      return best;
    },
  };
}

/** The score of `node` for a client whose address hashed to `key`; the highest usable score wins. */
export function rendezvousScore(key: number, node: UpstreamNode): number {
  const h = fmix32(hashString(node.name, key));
  // u in (0, 1): ln(u) < 0, so a heavier node scores higher for the same u.
  const u = (h + 0.5) / 4294967296;
  return -node.weight / Math.log(u);
}

/** FNV-1a over UTF-16 code units, seeded. */
function hashString(s: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** MurmurHash3's finalizer: FNV alone leaves nearby addresses with nearby hashes. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
