/**
 * The cost of access control on the handshake: handshakes per second through Origin + cookie token (a token
 * file looked up per handshake) + rate limit (handshake window and connection count), against the same site
 * route with no checks (`bare`). Also measured, for the site's own cost: a route that upgrades at once
 * (`direct`). Same requests, byte for byte, to all. Each gateway is wsgate as users start it (`wsgate --config`,
 * ../cli-gateway.ts) with a route script from a file: `guarded` the example's own
 * (examples/s2-media-cookie/routes.ts, compiled, its token folder and limits in `script.options`), `bare`
 * ./unguarded-routes.ts, `direct` ./direct-routes.ts. They run pinned to one core and are measured in
 * interleaved slices, as `pnpm bench` does, several fresh sets of them in turn. Target: the checks cost
 * ≤ 10 % (guarded / bare ≥ 0.9).
 *
 * Run: `tsc -b && node packages/bench/dist/auth/bench-auth.js` (BENCH_SECONDS, default 3; BENCH_AUTH_SETS,
 * default 4).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { killWsgates } from '@wsgate/test-kit';
import { benchScript, CliGateway } from '../cli-gateway.js';
import { interleave } from '../gateway/interleave.js';
import { nextSourceAddress } from '../gateway/loopback.js';
import { HandshakeLoad } from '../gateway/phases/handshakes.js';
import { pinning, pinSelf } from '../gateway/servers.js';

/** The token the benchmark's requests carry (the benchmark writes its file into the guarded gateway's token folder), and the page origin they claim. */
export const BENCH_TOKEN = 'YmVuY2gtdG9rZW4tZm9yLWF1dGg';
export const BENCH_ORIGIN = 'https://media.example.com';
/** The guard's limits in the benchmark: high enough that its load is never refused, so every handshake is counted and checked. */
export const UNREFUSED_LIMITS = { handshakesPerSecond: 100_000_000, connectionsPerIp: 1_000_000 } as const;

/** The benchmark's guarded handshake load on `port`: `clients` loops of the upgrade the guard admits (shared with ../scale/). */
export function guardedHandshakeLoad(port: number, options: { clients?: number; busyPoll?: boolean; token?: string } = {}): HandshakeLoad {
  const target = { port, request: authUpgradeRequest(port, BENCH_ORIGIN, options.token ?? BENCH_TOKEN) };
  return new HandshakeLoad(target, nextSourceAddress(), { clients: options.clients ?? 50, maxCount: 10_000_000, busyPoll: options.busyPoll ?? false });
}

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
  /** Handshakes per second, the site's route with no checks. */
  readonly bare: number;
  /** Handshakes per second through Origin + cookie token + rate limit. */
  readonly guarded: number;
  /** Handshakes per second, a route that upgrades at once. */
  readonly direct: number;
  /** guarded / bare, the checks' cost: 0.9 or more meets the target. */
  readonly ratio: number;
  /** guarded / direct: the checks and the site's routing together. */
  readonly ratioToDirect: number;
  readonly errors: number;
  /** guarded / bare of each set of gateways. */
  readonly sets: readonly number[];
}

export type AuthSide = 'bare' | 'guarded' | 'direct';
const SIDES: readonly AuthSide[] = ['bare', 'guarded', 'direct'];

/** Story S2's cookie-token route script, compiled (packages/bench/{src,dist}/auth → examples/dist). */
const S2_COOKIE_ROUTES = fileURLToPath(new URL('../../../../examples/dist/s2-media-cookie/routes.js', import.meta.url));

/** Each side's gateway: its route script and `script.options`; `tokens` is the folder holding BENCH_TOKEN's file. */
export function startAuthGateway(side: AuthSide, tokens: string): Promise<CliGateway> {
  const script =
    side === 'guarded'
      ? { script: S2_COOKIE_ROUTES, scriptOptions: { tokens, origins: [BENCH_ORIGIN], ...UNREFUSED_LIMITS } }
      : { script: benchScript(side === 'bare' ? 'auth/unguarded-routes.js' : 'auth/direct-routes.js') };
  return CliGateway.start({
    name: `auth-${side}`,
    ...script,
    config: { limits: { maxConnections: 16_000 }, log: { level: 'warn' } },
    ...(pinning ? { cpus: '1' } : {}),
  });
}

/**
 * Sets of fresh gateways, each set measured in interleaved slices, the counts summed over the sets. One
 * process of the same code runs about 3 % faster or slower than another, for as long as it lives (measured:
 * CPU per handshake of six gateways alike, 135 to 142 µs); a single set passes that on to the ratio whole.
 */
export async function compareAuthCost(options: { seconds?: number; clients?: number; sets?: number } = {}): Promise<AuthCost> {
  const totals = { bare: { count: 0, seconds: 0 }, guarded: { count: 0, seconds: 0 }, direct: { count: 0, seconds: 0 } };
  const sets: number[] = [];
  let errors = 0;
  for (let set = 0; set < (options.sets ?? 4); set++) {
    const one = await measureSet(options);
    for (const side of SIDES) {
      totals[side].count += one.totals[side].count;
      totals[side].seconds += one.totals[side].seconds;
    }
    sets.push(perSecond(one.totals.guarded) / perSecond(one.totals.bare));
    errors += one.errors;
  }
  const [bare, guarded, direct] = SIDES.map((side) => perSecond(totals[side]));
  return { bare: bare!, guarded: guarded!, direct: direct!, ratio: guarded! / bare!, ratioToDirect: guarded! / direct!, errors, sets };
}

function perSecond(t: { count: number; seconds: number }): number {
  return t.count / t.seconds;
}

/** Starts the gateways, measures them in interleaved slices, stops them. */
async function measureSet(options: { seconds?: number; clients?: number }) {
  const servers: Partial<Record<AuthSide, CliGateway>> = {};
  const tokens = mkdtempSync(join(tmpdir(), 'wsgate-bench-tokens-'));
  writeFileSync(join(tokens, BENCH_TOKEN), '');
  try {
    for (const side of SIDES) servers[side] = await startAuthGateway(side, tokens);
    const loads = Object.fromEntries(
      SIDES.map((side) => [side, guardedHandshakeLoad(servers[side]!.port, { clients: options.clients ?? 50, busyPoll: pinning })]),
    ) as Record<AuthSide, HandshakeLoad>;
    const sliceMs = 500;
    const totals = await interleave(loads, SIDES, { warmupMs: 1000, rampMs: 150, sliceMs, slices: Math.max(1, Math.round(((options.seconds ?? 3) * 1000) / sliceMs)) });
    return { totals, errors: SIDES.reduce((sum, side) => sum + loads[side].errors, 0) };
  } finally {
    await Promise.all(Object.values(servers).map((s) => s.stop()));
    rmSync(tokens, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const seconds = Number(process.env.BENCH_SECONDS ?? 3);
  const sets = Number(process.env.BENCH_AUTH_SETS ?? 4);
  if (!(seconds > 0 && seconds <= 10) || !(Number.isInteger(sets) && sets >= 1 && sets <= 20)) {
    console.error('BENCH_SECONDS must be in (0, 10] and BENCH_AUTH_SETS an integer in [1, 20]');
    process.exit(2);
  }
  pinSelf(0);
  compareAuthCost({ seconds, sets })
    .then((r) => {
      const sets = r.sets.map((x) => Number(x.toFixed(3)));
      console.log(JSON.stringify({ bareHandshakesPerSecond: Math.round(r.bare), guardedHandshakesPerSecond: Math.round(r.guarded), directHandshakesPerSecond: Math.round(r.direct), ratio: Number(r.ratio.toFixed(3)), ratioToDirect: Number(r.ratioToDirect.toFixed(3)), sets, errors: r.errors }));
    })
    .catch((err: unknown) => {
      console.error(err);
      killWsgates();
      process.exitCode = 1;
    });
}
