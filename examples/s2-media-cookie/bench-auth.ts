/**
 * The cost of access control on the handshake: handshakes per second through Origin + cookie token (a token
 * file looked up per handshake) + rate limit (handshake window and connection count), against a gateway
 * whose route upgrades at once. Same requests, byte for byte, to both; the two gateways run in children
 * pinned to one core and are measured in interleaved slices, as `pnpm bench` does, three fresh pairs of them
 * in turn. Target: ≤ 10 % cost.
 *
 * Run: `tsc -b && node examples/dist/s2-media-cookie/bench-auth.js` (BENCH_SECONDS, default 3).
 */
import { pathToFileURL } from 'node:url';
import { interleave } from '../bench/interleave.js';
import { nextSourceAddress } from '../bench/loopback.js';
import { HandshakeLoad } from '../bench/phases/handshakes.js';
import { killAllServers, pinSelf, ServerProcess } from '../bench/servers.js';

/** The token the benchmark's requests carry (the guarded server makes its file), and the page origin they claim. */
export const BENCH_TOKEN = 'YmVuY2gtdG9rZW4tZm9yLWF1dGg';
export const BENCH_ORIGIN = 'https://media.example.com';

/** What the benchmark's clients send: an upgrade that the guarded route admits (the example's token and origin). */
export function authUpgradeRequest(port: number, origin: string, token: string): Buffer {
  return Buffer.from(
    `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n` +
      `Origin: ${origin}\r\nCookie: lang=en; AUTH=${token}\r\n\r\n`,
    'latin1',
  );
}

export interface AuthCost {
  /** Handshakes per second, route that upgrades at once. */
  readonly bare: number;
  /** Handshakes per second through Origin + cookie token + rate limit. */
  readonly guarded: number;
  /** guarded / bare: 0.9 or more meets the target. */
  readonly ratio: number;
  readonly errors: number;
  /** guarded / bare of each pair of gateways. */
  readonly pairs: readonly number[];
}

type Side = 'bare' | 'guarded';
const SIDES: readonly Side[] = ['bare', 'guarded'];

/**
 * Pairs of fresh gateways, each pair measured in interleaved slices, the counts summed over the pairs. One
 * process of the same code runs about 3 % faster or slower than another, for as long as it lives (measured:
 * CPU per handshake of two gateways alike); a single pair passes that on to the ratio whole.
 */
export async function compareAuthCost(options: { seconds?: number; clients?: number; pairs?: number } = {}): Promise<AuthCost> {
  const totals = { bare: { count: 0, seconds: 0 }, guarded: { count: 0, seconds: 0 } };
  const pairs: number[] = [];
  let errors = 0;
  for (let pair = 0; pair < (options.pairs ?? 3); pair++) {
    const one = await measurePair(options);
    for (const side of SIDES) {
      totals[side].count += one.totals[side].count;
      totals[side].seconds += one.totals[side].seconds;
    }
    pairs.push(perSecond(one.totals.guarded) / perSecond(one.totals.bare));
    errors += one.errors;
  }
  const bare = perSecond(totals.bare);
  const guarded = perSecond(totals.guarded);
  return { bare, guarded, ratio: guarded / bare, errors, pairs };
}

function perSecond(t: { count: number; seconds: number }): number {
  return t.count / t.seconds;
}

/** Starts both gateways, measures them in interleaved slices, stops them. */
async function measurePair(options: { seconds?: number; clients?: number }) {
  const servers: Partial<Record<Side, ServerProcess>> = {};
  try {
    for (const side of SIDES) {
      process.env.WSGATE_BENCH_AUTH = side;
      servers[side] = await ServerProcess.start({ name: `wsgate (${side})`, entry: '../s2-media-cookie/bench-auth-server.js' });
    }
    const loads = Object.fromEntries(
      SIDES.map((side) => {
        const port = servers[side]!.port;
        const target = { port, request: authUpgradeRequest(port, BENCH_ORIGIN, BENCH_TOKEN) };
        return [side, new HandshakeLoad(target, nextSourceAddress(), { clients: options.clients ?? 50, maxCount: 10_000_000 })];
      }),
    ) as Record<Side, HandshakeLoad>;
    const sliceMs = 500;
    const totals = await interleave(loads, SIDES, { warmupMs: 1000, rampMs: 150, sliceMs, slices: Math.max(1, Math.round(((options.seconds ?? 3) * 1000) / sliceMs)) });
    return { totals, errors: loads.bare.errors + loads.guarded.errors };
  } finally {
    delete process.env.WSGATE_BENCH_AUTH;
    await Promise.all(Object.values(servers).map((s) => s.stop()));
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  pinSelf(0);
  compareAuthCost({ seconds: Number(process.env.BENCH_SECONDS ?? 3) })
    .then((r) => {
      const pairs = r.pairs.map((x) => Number(x.toFixed(3)));
      console.log(JSON.stringify({ bareHandshakesPerSecond: Math.round(r.bare), guardedHandshakesPerSecond: Math.round(r.guarded), ratio: Number(r.ratio.toFixed(3)), pairs, errors: r.errors }));
    })
    .catch((err: unknown) => {
      console.error(err);
      killAllServers();
      process.exitCode = 1;
    });
}
