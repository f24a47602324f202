/**
 * HTTP digest across gateways (issue 15.5): two gateways sharing a real redis-server (`store.redis`) and a
 * digest secret. A nonce one issued is good at the other, and its nonce count, kept in Redis, cannot be
 * replayed there.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attempt, digestAuthorization, digestChallenges, guardRoutes, HTDIGEST, RedisServer, startTestGateway, type TestGateway } from '@wsgate/test-kit';
import { digestAuth } from './digest.js';

let redis: RedisServer;
const nodes: TestGateway[] = [];
const SECRET = 'a-digest-secret-shared-by-both-gateways-0123456789';

beforeAll(async () => {
  redis = await RedisServer.start();
  const file = join(mkdtempSync(join(tmpdir(), 'wsgate-digest-nodes-')), 'htdigest');
  writeFileSync(file, HTDIGEST);
  for (const name of ['a', 'b']) {
    const gw = await startTestGateway([], { store: { redis: { url: redis.url } }, node: { name } });
    gw.gateway.use(guardRoutes(digestAuth({ realm: 'media', file, secret: SECRET, store: gw.gateway.store })));
    nodes.push(gw);
  }
});

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.close()));
  await redis?.close();
});

describe('digest across gateways sharing a Redis', () => {
  it("a nonce from a is good at b; the count used at a is refused at b as a replay, the next one admitted", async () => {
    const [a, b] = nodes as [TestGateway, TestGateway];
    const refused = await attempt(a.url);
    expect(refused.status).toBe(401);
    const challenge = digestChallenges(String(refused.headers['www-authenticate']))[0]!;
    const answer = (nc: number) => ({ headers: { Authorization: digestAuthorization(challenge, { user: 'dee', password: 'dee-digest', method: 'GET', uri: '/', nc }) } });

    const first = await attempt(a.url, answer(1));
    expect(first.status).toBe(101);
    first.ws!.close();
    const replayed = await attempt(b.url, answer(1));
    expect(replayed.status).toBe(401);
    expect(replayed.body).toMatch(/nonce count/);
    const next = await attempt(b.url, answer(2));
    expect(next.status).toBe(101);
    next.ws!.close();
  });
});
