/**
 * The auth benchmark runs the product: each of its gateways is wsgate started by its CLI with a config file and
 * a route script from a file (the guarded one story S2's own example script), the guarded one refuses what its
 * checks refuse, and one tiny set of the comparison runs with every handshake admitted (needs a build).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attempt, killWsgates } from '@wsgate/test-kit';
import type { CliGateway } from '../cli-gateway.js';
import { BENCH_ORIGIN, BENCH_TOKEN, compareAuthCost, startAuthGateway, type AuthSide } from './bench-auth.js';

const tokens = mkdtempSync(join(tmpdir(), 'wsgate-bench-auth-test-'));
writeFileSync(join(tokens, BENCH_TOKEN), '');

afterAll(() => {
  killWsgates();
  rmSync(tokens, { recursive: true, force: true });
});

describe('the auth benchmark (needs a build)', () => {
  it("starts each gateway by the CLI with its route script's file; only the guarded one checks", async () => {
    const gateways: Partial<Record<AuthSide, CliGateway>> = {};
    try {
      for (const side of ['guarded', 'bare', 'direct'] as const) gateways[side] = await startAuthGateway(side, tokens);
      const { guarded, bare, direct } = gateways as Record<AuthSide, CliGateway>;
      const config = readFileSync(guarded.configFile, 'utf8');
      expect(config).toMatch(/"path":"[^"]*examples\/dist\/s2-media-cookie\/routes\.js"/);
      expect(config).toContain(`"tokens":${JSON.stringify(tokens)}`);
      expect(readFileSync(bare.configFile, 'utf8')).toMatch(/"path":"[^"]*dist\/auth\/unguarded-routes\.js"/);
      for (const g of [guarded, bare, direct]) expect(readFileSync(`/proc/${g.primaryPid}/cmdline`, 'utf8')).toContain('packages/core/dist/cli.js');

      const withToken = { origin: BENCH_ORIGIN, headers: { Cookie: `AUTH=${BENCH_TOKEN}` } };
      for (const g of [guarded, bare]) {
        const admitted = await attempt(`ws://127.0.0.1:${g.port}/ws`, withToken);
        expect(admitted.status).toBe(101);
        admitted.ws!.close();
      }
      expect((await attempt(`ws://127.0.0.1:${guarded.port}/ws`, { origin: BENCH_ORIGIN })).status).toBe(403);
      expect((await attempt(`ws://127.0.0.1:${guarded.port}/ws`, { origin: 'https://elsewhere.example', headers: withToken.headers })).status).toBe(403);
      const unchecked = await attempt(`ws://127.0.0.1:${bare.port}/ws`, { origin: 'https://elsewhere.example' });
      expect(unchecked.status).toBe(101);
      unchecked.ws!.close();
      for (const g of [guarded, bare, direct]) expect(g.warnings()).toEqual([]);
    } finally {
      await Promise.all(Object.values(gateways).map((g) => g.stop()));
    }
  }, 60_000);

  it('runs one tiny set of the comparison: every handshake admitted on each gateway', async () => {
    const cost = await compareAuthCost({ seconds: 0.5, clients: 4, sets: 1 });
    expect(cost.errors).toBe(0);
    expect(cost.bare).toBeGreaterThan(0);
    expect(cost.guarded).toBeGreaterThan(0);
    expect(cost.direct).toBeGreaterThan(0);
    expect(cost.sets).toHaveLength(1);
  }, 60_000);
});
