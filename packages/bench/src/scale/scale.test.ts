/**
 * The scale benchmark's servers start and answer, and one tiny round of each comparison runs (needs a build:
 * the gateways are the CLI with this folder's compiled route scripts, on a real redis-server).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attempt, RedisServer } from '@wsgate/test-kit';
import { BENCH_ORIGIN, UNREFUSED_LIMITS } from '../auth/bench-auth.js';
import type { CliGateway } from '../cli-gateway.js';
import { startScaleGateway } from './scale-gateway.js';
import { compareGuardedHandshakes, logIn } from './guarded-handshake.js';
import { compareSendAcross } from './send-across.js';
import { figuresOf, toMarkdown } from './table.js';

const tiny = { rounds: 1, sliceMs: 200, rampMs: 50, warmupMs: 100 };
let redis: RedisServer;

beforeAll(async () => {
  redis = await RedisServer.start();
});

afterAll(async () => {
  await redis?.close();
});

describe('the scale benchmark (needs a build)', () => {
  it('guards the handshake as S2 does, with its tokens in the Redis store: a token issued by one gateway opens the other', async () => {
    const options = { origins: [BENCH_ORIGIN], ...UNREFUSED_LIMITS };
    const gateways: CliGateway[] = [];
    try {
      // One after the other: a start that fails leaves none running behind it.
      for (const node of ['x', 'y']) gateways.push(await startScaleGateway({ script: 'guarded-routes.js', options, redisUrl: redis.url, node }));
      const [x, y] = gateways as [CliGateway, CliGateway];
      const token = await logIn(x.port);
      const url = `ws://127.0.0.1:${y.port}/ws`;
      const admitted = await attempt(url, { origin: BENCH_ORIGIN, headers: { Cookie: `AUTH=${token}` } });
      expect(admitted.status).toBe(101);
      admitted.ws!.close();
      expect((await attempt(url, { origin: BENCH_ORIGIN })).status).toBe(403);
      expect((await attempt(url, { origin: 'https://elsewhere.example', headers: { Cookie: `AUTH=${token}` } })).status).toBe(403);
      for (const g of gateways) expect(g.warnings()).toEqual([]);
    } finally {
      await Promise.all(gateways.map((g) => g.stop()));
    }
  }, 40_000);

  it('runs one tiny round of each comparison, every handshake admitted and every message delivered', async () => {
    const guarded = await compareGuardedHandshakes(redis, { ...tiny, clients: 4 });
    expect(guarded.errors, guarded.firstError).toBe(0);
    expect(guarded.perSecond.memory).toBeGreaterThan(0);
    expect(guarded.perSecond.redis).toBeGreaterThan(0);
    const send = await compareSendAcross(redis, { ...tiny, senders: 1, window: 4, latencyMessages: 20 });
    expect(send.lost).toBe(0);
    for (const side of ['local', 'across'] as const) {
      expect(send.sides[side].perSecond).toBeGreaterThan(0);
      expect(send.sides[side].p99).toBeGreaterThanOrEqual(send.sides[side].p50);
    }
    const table = toMarkdown({ date: '', node: '', settings: {}, figures: figuresOf(guarded, send), loadAverage: { start: [0], end: [0] }, guarded, send });
    expect(table).toContain('S2 guarded handshakes/s');
    expect(table).toContain('(≥ 0.85)');
  }, 60_000);
});
