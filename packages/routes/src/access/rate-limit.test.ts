import { describe, expect, it } from 'vitest';
import { MemoryStore, type Store } from '@wsgate/core';
import { attempt, guardRoutes, testGateways, until } from '@wsgate/test-kit';
import { rateLimit } from './rate-limit.js';

describe('rateLimit()', () => {
  const startGateway = testGateways();

  /** The client IP comes from X-Real-IP (127.0.0.1 is a trusted proxy), so one test plays several clients. */
  const from = (ip: string) => ({ headers: { 'X-Real-IP': ip } });
  const realIp = { realIp: { trustedProxies: ['127.0.0.1'], header: 'X-Real-IP' } };

  /** A store reached through promises only, as a shared one (Redis) is: the limiter's awaited path. */
  const sharedStore = (): Store => {
    const inner = new MemoryStore();
    return {
      get: (k) => inner.get(k),
      set: (k, v, t) => inner.set(k, v, t),
      add: (k, v, t) => inner.add(k, v, t),
      delete: (k) => inner.delete(k),
      increment: (k, by, t) => inner.increment(k, by, t),
      raise: (k, v, t) => inner.raise(k, v, t),
      compareAndSet: (k, e, v, t) => inner.compareAndSet(k, e, v, t),
      close: () => inner.close(),
    };
  };

  it.each([
    ['the default in-process count', () => undefined],
    ['the in-process store', () => new MemoryStore()],
    ['a store reached through promises', sharedStore],
  ])('refuses handshakes over the rate with 429 and Retry-After, per client IP (%s)', async (_, makeStore) => {
    const store = makeStore();
    const gw = await startGateway(guardRoutes(rateLimit({ handshakes: { limit: 3, window: 10 }, store })), realIp);
    for (let i = 0; i < 3; i++) {
      const ok = await attempt(gw.url, from('203.0.113.1'));
      expect(ok.status).toBe(101);
      ok.ws!.close();
    }
    const refused = await attempt(gw.url, from('203.0.113.1'));
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(10);
    expect(refused.body).toBe('more than 3 handshakes in 10 s from 203.0.113.1\n');
    expect(gw.logs).toContainEqual(expect.objectContaining({ msg: 'request refused', by: 'rate-limit', client: '203.0.113.1:0' }));
    // Another client is counted apart.
    const other = await attempt(gw.url, from('203.0.113.2'));
    expect(other.status).toBe(101);
    other.ws!.close();
  });

  it('with a shared store, counts the window before (read once per window) into the sliding estimate', async () => {
    const gw = await startGateway(guardRoutes(rateLimit({ handshakes: { limit: 4, window: 1 }, store: sharedStore() })), realIp);
    // Start just after a window begins, so that the four fit in it and the next attempts fall early in the next.
    await until(() => Date.now() % 1000 < 100, 2000, 'the start of a window');
    const first = Math.floor(Date.now() / 1000);
    for (let i = 0; i < 4; i++) {
      const ok = await attempt(gw.url, from('203.0.113.7'));
      expect(ok.status).toBe(101);
      ok.ws!.close();
    }
    expect(Math.floor(Date.now() / 1000)).toBe(first); // the four in one window
    await until(() => Math.floor(Date.now() / 1000) === first + 1 && Date.now() % 1000 < 300, 2000, 'early in the next window');
    // 4 in the window before, nearly all of it still inside the sliding second: 4 × (1 - into) + 1 > 4
    expect((await attempt(gw.url, from('203.0.113.7'))).status).toBe(429);
    expect((await attempt(gw.url, from('203.0.113.7'))).status).toBe(429);
    const other = await attempt(gw.url, from('203.0.113.8'));
    expect(other.status).toBe(101);
    other.ws!.close();
  });

  it('lets a client in again once the window has slid by', async () => {
    const gw = await startGateway(guardRoutes(rateLimit({ handshakes: { limit: 1, window: 0.5 } })), realIp);
    (await attempt(gw.url, from('203.0.113.3'))).ws!.close();
    expect((await attempt(gw.url, from('203.0.113.3'))).status).toBe(429);
    // Two windows on, the attempts above have slid out entirely.
    await new Promise((r) => setTimeout(r, 1050));
    const again = await attempt(gw.url, from('203.0.113.3'));
    expect(again.status).toBe(101);
    again.ws!.close();
  });

  it('limits open WebSockets per client IP, answering 503 when told, and frees the slot on close', async () => {
    const gw = await startGateway([], realIp);
    const limiter = rateLimit({ connections: { max: 2, retryAfter: 7 }, gateway: gw.gateway, status: 503 });
    gw.gateway.use(guardRoutes(limiter));
    const a = await attempt(gw.url, from('203.0.113.4'));
    const b = await attempt(gw.url, from('203.0.113.4'));
    expect([a.status, b.status]).toEqual([101, 101]);
    await until(() => gw.gateway.connections.size === 2);
    const third = await attempt(gw.url, from('203.0.113.4'));
    expect(third.status).toBe(503);
    expect(third.headers['retry-after']).toBe('7');
    expect(third.body).toBe('2 WebSockets already open from 203.0.113.4 (at most 2)\n');
    const elsewhere = await attempt(gw.url, from('203.0.113.5'));
    expect(elsewhere.status).toBe(101);
    a.ws!.close();
    await until(() => gw.gateway.connections.size === 2);
    const fourth = await attempt(gw.url, from('203.0.113.4'));
    expect(fourth.status).toBe(101);
    for (const s of [b, elsewhere, fourth]) s.ws!.close();
    await limiter.close();
  });

  it('counts the WebSockets already open when it is made (a limiter made on reload starts from the truth)', async () => {
    const gw = await startGateway(guardRoutes({ name: 'anyone', check: () => true, close: async () => {} }), realIp);
    const a = await attempt(gw.url, from('203.0.113.6'));
    const b = await attempt(gw.url, from('203.0.113.6'));
    expect([a.status, b.status]).toEqual([101, 101]);
    await until(() => gw.gateway.connections.size === 2);
    const limiter = rateLimit({ connections: { max: 2 }, gateway: gw.gateway });
    gw.gateway.setRoutes([guardRoutes(limiter)]);
    const third = await attempt(gw.url, from('203.0.113.6'));
    expect(third.status).toBe(429);
    expect(third.body).toBe('2 WebSockets already open from 203.0.113.6 (at most 2)\n');
    a.ws!.close();
    await until(() => gw.gateway.connections.size === 1);
    const fourth = await attempt(gw.url, from('203.0.113.6'));
    expect(fourth.status).toBe(101);
    for (const s of [b, fourth]) s.ws!.close();
    await limiter.close();
  });

  it('refuses bad options at creation, naming the option', () => {
    expect(() => rateLimit({})).toThrow(/rateLimit\(\): give handshakes/);
    expect(() => rateLimit({ handshakes: { limit: 0 } })).toThrow(/rateLimit\(\)\.handshakes\.limit: expected an integer from 1/);
    expect(() => rateLimit({ handshakes: {} as never })).toThrow(/rateLimit\(\)\.handshakes\.limit: is required/);
    expect(() => rateLimit({ connections: { max: 5 } })).toThrow(/rateLimit\(\)\.gateway: .*pass \{ gateway \}/);
    expect(() => rateLimit({ handshakes: { limit: 5 }, status: 500 as 429 })).toThrow(/rateLimit\(\)\.status/);
  });
});
