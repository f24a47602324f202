/**
 * Story S2's guarded handshake (Origin + cookie token + rate limit) with the Redis store against the memory
 * store (issue 15.6, target Redis / memory ≥ 0.85): two gateways started by the CLI with the same route script
 * (./guarded-routes.ts: tokens and handshake counts in `gateway.store`), one with `store.redis` and one
 * without, side by side; the auth benchmark's load (../auth/bench-auth.ts: its origin and upgrade request,
 * 50 handshake loops) with a token each gateway issued at its `POST /login`, on each in turn, in short rounds
 * alternating which goes first.
 */
import type { RedisServer } from '@wsgate/test-kit';
import { BENCH_ORIGIN, guardedHandshakeLoad, UNREFUSED_LIMITS } from '../auth/bench-auth.js';
import { median } from '../gateway/phases/idle-memory.js';
import type { HandshakeLoad } from '../gateway/phases/handshakes.js';
import { cpuMicros } from '../proxy/process-stats.js';
import type { CliGateway } from '../cli-gateway.js';
import { startScaleGateway } from './scale-gateway.js';
import { commandCounts, commandsPer } from './redis-commands.js';

export type StoreSide = 'memory' | 'redis';
export const STORE_SIDES: readonly StoreSide[] = ['memory', 'redis'];

export interface RoundOptions {
  readonly rounds: number;
  /** Counted part of each side's turn in a round. */
  readonly sliceMs: number;
  /** Uncounted start of each turn. */
  readonly rampMs: number;
  /** Uncounted run of each side first. */
  readonly warmupMs: number;
}

export interface GuardedHandshakes {
  /** Median handshakes per second over the rounds. */
  readonly perSecond: Record<StoreSide, number>;
  /** Median gateway CPU per handshake (µs, /proc). */
  readonly cpuMicrosPerHandshake: Record<StoreSide, number>;
  /** Median of each round's redis / memory. */
  readonly ratio: number;
  readonly rounds: ReadonlyArray<Record<StoreSide, number>>;
  /** Commands Redis ran per handshake of the Redis side, by name (`INFO commandstats`), over all its rounds. */
  readonly redisCommandsPerHandshake: Record<string, number>;
  readonly errors: number;
  readonly firstError?: string;
}

export async function compareGuardedHandshakes(redis: RedisServer, options: RoundOptions & { clients?: number; profileDir?: string }): Promise<GuardedHandshakes> {
  const gateways: Partial<Record<StoreSide, CliGateway>> = {};
  try {
    const scriptOptions = { origins: [BENCH_ORIGIN], ...UNREFUSED_LIMITS };
    const profile = options.profileDir === undefined ? {} : { profileDir: options.profileDir };
    gateways.memory = await startScaleGateway({ script: 'guarded-routes.js', options: scriptOptions, ...profile });
    gateways.redis = await startScaleGateway({ script: 'guarded-routes.js', options: scriptOptions, redisUrl: redis.url, node: 'guarded', ...profile });
    const loads = {} as Record<StoreSide, HandshakeLoad>;
    for (const side of STORE_SIDES) {
      const token = await logIn(gateways[side]!.port);
      loads[side] = guardedHandshakeLoad(gateways[side]!.port, { token, ...(options.clients === undefined ? {} : { clients: options.clients }) });
    }
    for (const side of STORE_SIDES) await loads[side].run(options.warmupMs, 0);
    const rounds: Array<Record<StoreSide, number>> = [];
    const cpu: Record<StoreSide, number[]> = { memory: [], redis: [] };
    let redisHandshakes = 0;
    const commandsBefore = await commandCounts(redis.port);
    for (let r = 0; r < options.rounds; r++) {
      const round = {} as Record<StoreSide, number>;
      for (const side of r % 2 === 0 ? STORE_SIDES : [...STORE_SIDES].reverse()) {
        const before = cpuMicros([gateways[side]!.primaryPid]);
        const slice = await loads[side].run(options.rampMs, options.sliceMs);
        round[side] = slice.count / slice.seconds;
        // The turn's CPU includes its ramp: per handshake of the whole turn, ramp handshakes estimated at the same rate.
        const turnSeconds = slice.seconds + options.rampMs / 1000;
        cpu[side].push((cpuMicros([gateways[side]!.primaryPid]) - before) / Math.max(1, round[side] * turnSeconds));
        if (side === 'redis') redisHandshakes += round[side] * turnSeconds;
      }
      rounds.push(round);
    }
    // Counted between turns only: the memory side's turns and the Redis side's heartbeat add nothing worth counting.
    const redisCommandsPerHandshake = commandsPer(commandsBefore, await commandCounts(redis.port), redisHandshakes);
    const errors = STORE_SIDES.reduce((sum, side) => sum + loads[side].errors, 0);
    const firstError = STORE_SIDES.map((side) => loads[side].firstError).find((e) => e !== undefined);
    for (const side of STORE_SIDES) await loads[side].close();
    return {
      perSecond: { memory: median(rounds.map((r) => r.memory)), redis: median(rounds.map((r) => r.redis)) },
      cpuMicrosPerHandshake: { memory: median(cpu.memory), redis: median(cpu.redis) },
      ratio: median(rounds.map((r) => r.redis / r.memory)),
      rounds,
      redisCommandsPerHandshake,
      errors,
      ...(firstError !== undefined ? { firstError } : {}),
    };
  } finally {
    await Promise.all(Object.values(gateways).map((g) => g.stop()));
  }
}

/** The site's sign-in: a token issued into the gateway's store, read from the `AUTH` cookie set. */
export async function logIn(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/login`, { method: 'POST', signal: AbortSignal.timeout(10_000) });
  const token = /^AUTH=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1];
  if (res.status !== 200 || token === undefined) throw new Error(`POST /login on :${port} answered ${res.status} with no AUTH cookie: ${await res.text()}`);
  return token;
}
