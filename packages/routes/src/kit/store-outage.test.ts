/**
 * Redis lost while the gateway runs (issue 15.4): each store-using route module on `gateway.store` (a real
 * redis-server, killed mid-test and started again) refuses with 503 (`closed`) or admits (`open`) as its
 * `onStoreUnavailable` says, logs the outage once (not per request) and its end once, and checks with the
 * store again by itself when Redis is back.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LogFields } from '@wsgate/core';
import { attempt, digestAuthorization, digestChallenges, guardRoutes, HTDIGEST, killRedises, RedisServer, startTestGateway, until, type TestGateway } from '@wsgate/test-kit';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rateLimit } from '../access/rate-limit.js';
import { cookieToken } from '../auth/cookie-token.js';
import { digestAuth } from '../auth/digest.js';
import { memoryTokens } from '../auth/tokens/memory-tokens.js';
import { signedTokens } from '../auth/tokens/signed-tokens.js';
import { allOf, type Guard } from './guard.js';
import type { StoreUnavailablePolicy } from './store-outage.js';

let redis: RedisServer;
let gw: TestGateway | undefined;

beforeAll(async () => {
  redis = await RedisServer.start();
});
afterEach(async () => {
  await gw?.close();
  gw = undefined;
  await redis.resume();
});
afterAll(async () => {
  await redis?.close();
  killRedises();
});

/** A gateway on the Redis whose store calls give up within 0.3 s, guarded by what `guard(gateway)` makes. */
async function guarded(make: (g: TestGateway['gateway']) => Guard): Promise<TestGateway> {
  gw = await startTestGateway([], { store: { redis: { url: redis.url, connectTimeout: 2, commandTimeout: 0.3 } } });
  gw.gateway.use(guardRoutes(make(gw.gateway)));
  return gw;
}

const lines = (g: TestGateway, module: string, text: RegExp) => g.logs.filter((l: LogFields) => l.module === module && text.test(String(l.msg)));

/** Kills Redis, runs `during`, starts Redis again, then waits (bounded) until `recovered()` holds. */
async function outage(during: () => Promise<void>, recovered: () => Promise<boolean>): Promise<void> {
  await redis.stop();
  await during();
  await redis.resume();
  await until(recovered, 10_000, 'the module to use the store again once Redis is back');
}

const metric = async (g: TestGateway, module: string, outcome: string) => {
  const text = await g.gateway.metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`wsgate_route_store_unavailable_total{module="${module}",outcome="${outcome}"}`));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
};

describe('digestAuth() when its nonce-count store is lost', () => {
  const htdigest = () => {
    const file = join(mkdtempSync(join(tmpdir(), 'wsgate-outage-')), 'htdigest');
    writeFileSync(file, HTDIGEST);
    return file;
  };
  const login = async (g: TestGateway, nc = 1) => {
    const refused = await attempt(g.url);
    expect(refused.status).toBe(401);
    const c = digestChallenges(String(refused.headers['www-authenticate']))[0]!;
    return attempt(g.url, { headers: { Authorization: digestAuthorization(c, { user: 'dee', password: 'dee-digest', method: 'GET', uri: '/', nc }) } });
  };
  const start = (policy?: StoreUnavailablePolicy) =>
    guarded((gateway) => digestAuth({ realm: 'media', file: htdigest(), store: gateway.store, ...(policy ? { onStoreUnavailable: policy } : {}) }));

  it('closed by default: 503 with Retry-After naming the store, one warning for the outage, admits again once Redis is back', async () => {
    const g = await start();
    const ok = await login(g);
    expect(ok.status).toBe(101);
    ok.ws!.close();
    await outage(
      async () => {
        for (let i = 0; i < 3; i++) {
          const refused = await login(g);
          expect(refused.status).toBe(503);
          expect(refused.headers['retry-after']).toBe('5');
          expect(refused.body).toBe('nonce-count store unavailable\n');
        }
        // A wrong password is still a 401: the store is asked only after the password was checked.
        expect((await attempt(g.url, { headers: { Authorization: 'Digest username="dee"' } })).status).toBe(401);
        const challenge = digestChallenges(String((await attempt(g.url)).headers['www-authenticate']))[0]!;
        const wrong = digestAuthorization(challenge, { user: 'dee', password: 'not-dee-digest', method: 'GET', uri: '/', nc: 1 });
        expect((await attempt(g.url, { headers: { Authorization: wrong } })).status).toBe(401);
      },
      async () => {
        const r = await login(g);
        r.ws?.close();
        return r.status === 101;
      },
    );
    expect(lines(g, 'digest', /store unavailable.*refusing with 503/)).toHaveLength(1);
    expect(lines(g, 'digest', /store available again/)).toHaveLength(1);
  });

  it('open: admits a correct answer without the replay check while Redis is gone', async () => {
    const g = await start('open');
    await outage(
      async () => {
        for (let i = 0; i < 2; i++) {
          const r = await login(g);
          expect(r.status).toBe(101);
          r.ws!.close();
        }
      },
      async () => {
        const r = await login(g);
        r.ws?.close();
        return r.status === 101 && lines(g, 'digest', /store available again/).length === 1;
      },
    );
    expect(lines(g, 'digest', /store unavailable.*admitting without them \(onStoreUnavailable: open\)/)).toHaveLength(1);
  });
});

describe('cookieToken() when its token store is lost', () => {
  const SECRET = 'a-secret-of-at-least-32-bytes-for-signing-tokens';
  const cookie = (token: string) => ({ headers: { Cookie: `AUTH=${token}` } });

  it('closed by default (memory tokens on Redis): 503 while Redis is gone, one warning; a token issued after its return admits', async () => {
    let tokens!: ReturnType<typeof memoryTokens>;
    const g = await guarded((gateway) => cookieToken({ store: (tokens = memoryTokens({ store: gateway.store })) }));
    const token = await tokens.issue({ subject: 'alice' });
    expect((await attempt(g.url, cookie(token))).status).toBe(101);
    await outage(
      async () => {
        for (let i = 0; i < 3; i++) {
          const refused = await attempt(g.url, cookie(token));
          expect([refused.status, refused.headers['retry-after'], refused.body]).toEqual([503, '5', 'token store unavailable\n']);
        }
        // Issuing or revoking cannot be acknowledged without the store: they reject, typed.
        await expect(tokens.issue()).rejects.toMatchObject({ code: 'WSGATE_STORE_UNAVAILABLE' });
        await expect(tokens.revoke(token)).rejects.toMatchObject({ code: 'WSGATE_STORE_UNAVAILABLE' });
      },
      async () => {
        // This test's Redis keeps nothing across its restart: a token issued now must count.
        const fresh = await tokens.issue({ subject: 'alice' }).catch(() => undefined);
        if (fresh === undefined) return false;
        const r = await attempt(g.url, cookie(fresh));
        r.ws?.close();
        return r.status === 101;
      },
    );
    expect(lines(g, 'cookie-token', /store unavailable.*refusing with 503/)).toHaveLength(1);
    expect(lines(g, 'cookie-token', /store available again/)).toHaveLength(1);
  });

  it('open (signed tokens, revocations on Redis): admits a well-signed token while Redis is gone, a forged one still refused; revocations count again after', async () => {
    let tokens!: ReturnType<typeof signedTokens>;
    const g = await guarded((gateway) => cookieToken({ store: (tokens = signedTokens({ secret: SECRET, store: gateway.store })), onStoreUnavailable: 'open' }));
    const token = tokens.sign({ subject: 'bob' });
    await outage(
      async () => {
        for (let i = 0; i < 2; i++) {
          const r = await attempt(g.url, cookie(token));
          expect(r.status).toBe(101);
          r.ws!.close();
        }
        expect((await attempt(g.url, cookie(`${token.slice(0, -2)}xx`))).status).toBe(403);
      },
      async () => (await tokens.revoke(token).then(() => true, () => false)) && (await attempt(g.url, cookie(token))).status === 403,
    );
    expect(lines(g, 'cookie-token', /store unavailable.*admitting without them/)).toHaveLength(1);
    expect(lines(g, 'cookie-token', /store available again/)).toHaveLength(1);
  });
});

describe('rateLimit() when its shared count is lost', () => {
  const limited = (policy?: StoreUnavailablePolicy) =>
    guarded((gateway) => rateLimit({ handshakes: { limit: 2, window: 60 }, store: gateway.store, gateway, ...(policy ? { onStoreUnavailable: policy } : {}) }));

  it('open by default: admits uncounted while Redis is gone, counted as admitted; limits again once it is back', async () => {
    const g = await limited();
    expect((await attempt(g.url)).status).toBe(101);
    await outage(
      async () => {
        for (let i = 0; i < 4; i++) {
          const r = await attempt(g.url);
          expect(r.status).toBe(101);
          r.ws!.close();
        }
        // Read before Redis returns: the recovery's own attempts may meet the outage too.
        expect(await metric(g, 'rate-limit', 'admitted')).toBe(4);
      },
      async () => {
        // Redis came back empty: 2 handshakes pass, then the third is refused.
        const statuses = [(await attempt(g.url)).status, (await attempt(g.url)).status, (await attempt(g.url)).status];
        return statuses.includes(429);
      },
    );
    expect(await metric(g, 'rate-limit', 'refused')).toBe(0);
    expect(lines(g, 'rate-limit', /store unavailable.*admitting without them/)).toHaveLength(1);
    expect(lines(g, 'rate-limit', /store available again/)).toHaveLength(1);
  });

  it('closed: 503 with Retry-After while Redis is gone, counted as refused; admits again once it is back', async () => {
    const g = await limited('closed');
    await outage(
      async () => {
        for (let i = 0; i < 3; i++) {
          const r = await attempt(g.url);
          expect([r.status, r.headers['retry-after'], r.body]).toEqual([503, '5', 'rate-limit store unavailable\n']);
        }
        expect(await metric(g, 'rate-limit', 'refused')).toBe(3);
      },
      async () => {
        const r = await attempt(g.url);
        r.ws?.close();
        return r.status === 101;
      },
    );
    expect(lines(g, 'rate-limit', /store unavailable.*refusing with 503/)).toHaveLength(1);
  });

  it('refuses a policy other than open or closed, naming the option', () => {
    expect(() => rateLimit({ handshakes: { limit: 1 }, onStoreUnavailable: 'ajar' as never })).toThrow(/rateLimit\(\)\.onStoreUnavailable: expected one of "open", "closed"/);
  });
});

describe("S2's guard on one Redis store, Redis frozen with the batch that carries both modules' calls", () => {
  it('each module answers by its own policy: the rate limit admits uncounted (open), the cookie token refuses 503 (closed); both again once Redis answers', async () => {
    let tokens!: ReturnType<typeof memoryTokens>;
    const g = await guarded((gateway) => {
      tokens = memoryTokens({ store: gateway.store });
      return allOf(rateLimit({ handshakes: { limit: 100 }, store: gateway.store, gateway }), cookieToken({ store: tokens, cookie: 'AUTH' }));
    });
    const token = await tokens.issue({ subject: 'alice' });
    const withToken = { headers: { Cookie: `AUTH=${token}` } };
    const admitted = await attempt(g.url, withToken);
    expect(admitted.status).toBe(101);
    admitted.ws!.close();
    redis.freeze();
    try {
      const start = performance.now();
      const r = await attempt(g.url, withToken);
      // The batch with both calls (the rate count, the token read) ended by the 0.3 s command timeout.
      expect(performance.now() - start).toBeLessThan(1000);
      expect([r.status, r.headers['retry-after'], r.body]).toEqual([503, '5', 'token store unavailable\n']);
      expect(await metric(g, 'rate-limit', 'admitted')).toBe(1);
      expect(lines(g, 'rate-limit', /store unavailable.*admitting without them/)).toHaveLength(1);
      expect(lines(g, 'cookie-token', /store unavailable.*refusing with 503/)).toHaveLength(1);
    } finally {
      redis.thaw();
    }
    await until(
      async () => {
        const r = await attempt(g.url, withToken);
        r.ws?.close();
        return r.status === 101;
      },
      10_000,
      'the guard to admit again once Redis answers',
    );
  });
});
