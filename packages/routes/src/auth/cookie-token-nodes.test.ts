/**
 * Token revocation across gateways (issue 15.2): two gateways sharing a real redis-server (`store.redis`, so
 * their tokens and their connection directory are shared); a token revoked on b closes what it opened on a
 * and on b, and nothing else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { attempt, attributesOf, guardRoutes, RedisServer, startTestGateway, until, type TestGateway } from '@wsgate/test-kit';
import { cookieToken, type CookieTokenGuard } from './cookie-token.js';
import { memoryTokens, type IssuingTokenStore } from './tokens/memory-tokens.js';

let redis: RedisServer;
const nodes: Array<{ gw: TestGateway; tokens: IssuingTokenStore; auth: CookieTokenGuard }> = [];

beforeAll(async () => {
  redis = await RedisServer.start();
  for (const name of ['a', 'b']) {
    const gw = await startTestGateway([], { store: { redis: { url: redis.url } }, node: { name, heartbeat: 0.5 } });
    const tokens = memoryTokens({ store: gw.gateway.store });
    const auth = cookieToken({ store: tokens, cookie: 'SESSION', connections: gw.gateway.connections });
    gw.gateway.use(guardRoutes(auth));
    nodes.push({ gw, tokens, auth });
  }
});

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.gw.close()));
  await redis?.close();
});

const closeOf = (ws: WebSocket) => new Promise<[number, string]>((resolve) => ws.once('close', (code, reason) => resolve([code, String(reason)])));

describe('cookie-token revocation across gateways sharing a Redis', () => {
  it("revoking a token on b closes the WebSockets it opened on a and on b, and only those", async () => {
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
    const [alice, bob] = [await b.tokens.issue({ subject: 'alice' }), await b.tokens.issue({ subject: 'bob' })];
    const cookie = (token: string) => ({ headers: { Cookie: `SESSION=${token}` } });
    const onA = [(await attempt(a.gw.url, cookie(alice))).ws!, (await attempt(a.gw.url, cookie(alice))).ws!];
    const onB = (await attempt(b.gw.url, cookie(alice))).ws!;
    const bobOnA = (await attempt(a.gw.url, cookie(bob))).ws!;
    expect(await attributesOf(onA[0]!)).toMatchObject({ user: 'alice' });
    await until(async () => (await b.gw.gateway.connections.list()).length === 4, 5000, "a's connections listed on b");

    const closes = [...onA, onB].map(closeOf);
    expect(await b.auth.revoke(alice, { code: 4001, reason: 'signed out' })).toBe(3);
    expect(await Promise.all(closes)).toEqual([
      [4001, 'signed out'],
      [4001, 'signed out'],
      [4001, 'signed out'],
    ]);
    expect(bobOnA.readyState).toBe(bobOnA.OPEN);
    expect((await attempt(a.gw.url, cookie(alice))).status).toBe(403);
    bobOnA.close();
  });

  it('revoking a token on b closes a WebSocket it opened on a a moment before, not yet in the listing', async () => {
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
    const cookie = (token: string) => ({ headers: { Cookie: `SESSION=${token}` } });
    // Several times: each revocation follows its open by less than the directory's flush window.
    for (let i = 0; i < 5; i++) {
      const token = await b.tokens.issue({ subject: `carol${i}` });
      const ws = (await attempt(a.gw.url, cookie(token))).ws!;
      const closed = closeOf(ws);
      expect(await b.auth.revoke(token)).toBe(1);
      expect(await closed).toEqual([1008, 'token revoked']);
    }
  });
});
