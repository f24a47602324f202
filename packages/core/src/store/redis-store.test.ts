import { createHash } from 'node:crypto';
import { createClient } from '@redis/client';
import { freePort, killRedises, RedisServer, sleep, storeBehaviour, until } from '@wsgate/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WsgateError } from '../errors.js';
import { createLogger } from '../observe/logger.js';
import { RAISE } from './redis-scripts.js';
import { RedisStore, type RedisStoreOptions } from './redis-store.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(async () => {
  await redis?.close();
  killRedises();
});

/** The SHA1 EVALSHA names the raise script by. */
const raiseSha1 = createHash('sha1').update(RAISE.SCRIPT).digest('hex');

let prefixes = 0;
async function open(options: Partial<RedisStoreOptions> = {}): Promise<RedisStore> {
  const store = new RedisStore({ url: redis.url, prefix: `test${++prefixes}:`, ...options });
  await store.connect();
  return store;
}

/** A plain client on the same Redis, to look at what the store wrote. */
async function raw(url = redis.url) {
  const client = createClient({ url });
  await client.connect();
  return client;
}

/** Log lines as objects, through the gateway's own logger. */
function capturedLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level: 'info', write: (line) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines, said: (msg: RegExp) => lines.filter((l) => msg.test(String(l.msg))) };
}

/** How a call ended and how long it took. */
async function timed<T>(call: () => Promise<T>): Promise<{ ms: number; error?: unknown; value?: T }> {
  const start = performance.now();
  try {
    const value = await call();
    return { ms: performance.now() - start, value };
  } catch (error) {
    return { ms: performance.now() - start, error };
  }
}

storeBehaviour('RedisStore', () => open());

describe('RedisStore on a real redis-server', () => {
  it('keeps keys under its prefix: stores with other prefixes never see them', async () => {
    const a = await open({ prefix: 'tenant-a:' });
    const b = await open({ prefix: 'tenant-b:' });
    const client = await raw();
    try {
      await a.set('k', 'from-a');
      expect(await b.get('k')).toBeUndefined();
      expect(await b.add('k', 'from-b')).toBe(true);
      expect(await a.get('k')).toBe('from-a');
      expect(await client.get('tenant-a:k')).toBe('from-a');
      expect(await client.get('tenant-b:k')).toBe('from-b');
      expect(await client.get('k')).toBeNull();
      expect(await a.increment('n')).toBe(1);
      expect(await a.raise('nc', 5)).toBe(true);
      expect(await a.compareAndSet('reg', undefined, 'x')).toBe(true);
      expect((await client.keys('tenant-a:*')).sort()).toEqual(['tenant-a:k', 'tenant-a:n', 'tenant-a:nc', 'tenant-a:reg']);
    } finally {
      await Promise.all([a.close(), b.close(), client.close()]);
    }
  });

  it('two gateways racing (four stores, four connections, one prefix): one add wins, one compare-and-set wins, no count lost', async () => {
    const stores = await Promise.all(Array.from({ length: 4 }, () => open({ prefix: 'race:' })));
    try {
      const each = <T>(n: number, call: (store: RedisStore, i: number) => Promise<T>) =>
        Promise.all(Array.from({ length: n }, (_, i) => call(stores[i % stores.length]!, i)));
      const adds = await each(200, (s, i) => s.add('once', String(i), 30));
      expect(adds.filter(Boolean)).toHaveLength(1);
      const counts = await each(400, (s) => s.increment('count', 1, 30));
      expect(new Set(counts).size).toBe(400);
      expect(await stores[0]!.get('count')).toBe('400');
      const raised = await each(200, (s, i) => s.raise('nc', (i * 7919) % 200, 30));
      expect(raised.filter(Boolean).length).toBeGreaterThanOrEqual(1);
      expect(await stores[1]!.get('nc')).toBe('199');
      // The registrar's pattern: read, change, write back only if nobody wrote in between.
      await stores[0]!.set('reg', '0');
      const bumps = await each(40, async (s) => {
        for (let tries = 0; tries < 100; tries++) {
          const seen = await s.get('reg');
          if (await s.compareAndSet('reg', seen, String(Number(seen) + 1), 30)) return tries;
        }
        throw new Error('no compare-and-set won in 100 tries');
      });
      expect(bumps.some((tries) => tries > 0)).toBe(true); // there were races, and they were lost and retried
      expect(await stores[2]!.get('reg')).toBe('40');
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('writes TTLs as PX milliseconds, fractions included, and keeps a counter window fixed', async () => {
    const store = await open({ prefix: 'ttl:' });
    const client = await raw();
    try {
      await store.set('s', 'v', 2.5);
      expect(await client.pTTL('ttl:s')).toBeGreaterThan(2400);
      expect(await client.pTTL('ttl:s')).toBeLessThanOrEqual(2500);
      await store.add('a', 'v', 0.25);
      expect(await client.pTTL('ttl:a')).toBeGreaterThan(150);
      expect(await client.pTTL('ttl:a')).toBeLessThanOrEqual(250);
      await store.set('p', 'v');
      expect(await client.pTTL('ttl:p')).toBe(-1);
      await store.increment('c', 1, 10);
      await sleep(300);
      await store.increment('c', 1, 10);
      expect(await client.pTTL('ttl:c')).toBeLessThanOrEqual(9_750);
      await store.raise('nc', 1, 10);
      await sleep(300);
      await store.raise('nc', 2, 10);
      expect(await client.pTTL('ttl:nc')).toBeGreaterThan(9_800);
      await store.compareAndSet('r', undefined, 'v', 0.5);
      expect(await client.pTTL('ttl:r')).toBeGreaterThan(400);
      await store.compareAndSet('r', 'v', 'w');
      expect(await client.pTTL('ttl:r')).toBe(-1);
    } finally {
      await Promise.all([store.close(), client.close()]);
    }
  });

  it('runs its scripts by SHA1 and loads them again after SCRIPT FLUSH (EVALSHA, then EVAL on NOSCRIPT)', async () => {
    const store = await open();
    const client = await raw();
    try {
      expect(await store.raise('nc', 1)).toBe(true);
      expect(await client.scriptExists([raiseSha1])).toEqual([1]);
      await client.scriptFlush();
      expect(await store.raise('nc', 2)).toBe(true);
      expect(await store.compareAndSet('r', undefined, 'x')).toBe(true);
      expect(await client.scriptExists([raiseSha1])).toEqual([1]);
    } finally {
      await Promise.all([store.close(), client.close()]);
    }
  });

  it('Redis killed mid-run: calls fail fast with WSGATE_STORE_UNAVAILABLE, one warning; Redis back on its port: the same store works', async () => {
    const own = await RedisServer.start();
    const { logger, said } = capturedLogger();
    const store = new RedisStore({ url: own.url, commandTimeout: 0.5, logger });
    try {
      await store.connect();
      await store.set('k', 'before');
      await own.stop();
      for (let i = 0; i < 5; i++) {
        const call = await timed(() => store.get('k'));
        expect(call.error).toBeInstanceOf(WsgateError);
        expect((call.error as WsgateError).code).toBe('WSGATE_STORE_UNAVAILABLE');
        expect((call.error as Error).message).toContain(`redis://127.0.0.1:${own.port}`);
        expect(call.ms).toBeLessThan(600);
      }
      await sleep(300);
      const writes = await Promise.all([store.set('x', '1'), store.increment('n'), store.raise('nc', 1), store.compareAndSet('r', undefined, 'x')].map((p) => p.catch((e: unknown) => e)));
      for (const e of writes) expect((e as WsgateError).code).toBe('WSGATE_STORE_UNAVAILABLE');
      expect(store.available).toBe(false);
      expect(said(/Redis store unavailable/)).toHaveLength(1);
      expect(said(/Redis store unavailable/)[0]!.store).toBe(`redis://127.0.0.1:${own.port}`);
      expect(store.outages).toBe(1);
      expect(store.unavailableCalls).toBeGreaterThanOrEqual(9);

      await own.resume(); // empty: a Redis restarted with nothing saved
      await until(async () => (await store.get('k').then(() => true, () => false)), 5000, 'the store to reconnect');
      expect(await store.add('k', 'after')).toBe(true);
      expect(await store.get('k')).toBe('after');
      expect(await store.raise('nc', 3)).toBe(true); // the scripts load again on the new server
      expect(store.available).toBe(true);
      expect(said(/Redis store available again/)).toHaveLength(1);

      // A second outage is a second warning, not one per call.
      await own.stop();
      await Promise.all(Array.from({ length: 20 }, () => store.get('k').catch(() => undefined)));
      expect(said(/Redis store unavailable/)).toHaveLength(2);
      expect(store.outages).toBe(2);
    } finally {
      await store.close();
      await own.close();
    }
  });

  it('Redis frozen (connected, answering nothing): a call fails within the command timeout; thawed, calls succeed', async () => {
    const own = await RedisServer.start();
    const store = new RedisStore({ url: own.url, commandTimeout: 0.3 });
    try {
      await store.connect();
      await store.set('k', 'v');
      own.freeze();
      const calls = await Promise.all([timed(() => store.get('k')), timed(() => store.raise('nc', 1)), timed(() => store.increment('c', 1, 5))]);
      for (const call of calls) {
        expect((call.error as WsgateError)?.code).toBe('WSGATE_STORE_UNAVAILABLE');
        expect(call.ms).toBeGreaterThanOrEqual(250);
        expect(call.ms).toBeLessThan(800);
      }
      own.thaw();
      await until(async () => (await store.get('k').then((v) => v === 'v', () => false)), 5000, 'answers again');
      expect(store.available).toBe(true);
    } finally {
      own.thaw();
      await store.close();
      await own.close();
    }
  });

  it('unreachable at start: connect() fails at once with an error naming the URL (and not the password)', async () => {
    const port = await freePort();
    const store = new RedisStore({ url: `redis://:s3cret@127.0.0.1:${port}/2` });
    const call = await timed(() => store.connect());
    expect(call.error).toBeInstanceOf(WsgateError);
    expect((call.error as WsgateError).code).toBe('WSGATE_STORE_UNAVAILABLE');
    expect((call.error as Error).message).toMatch(new RegExp(`^cannot reach Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}/2 \\(.*ECONNREFUSED.*\\): start Redis, or fix store\\.redis\\.url`));
    expect((call.error as Error).message).not.toContain('s3cret');
    expect(call.ms).toBeLessThan(1000);
    await expect(store.get('k')).rejects.toThrow(/the store is closed/);
  });

  it('unreachable at start, degraded: starts with a warning, calls fail typed, and work once Redis comes up', async () => {
    const port = await freePort();
    const { logger, said } = capturedLogger();
    const store = new RedisStore({ url: `redis://127.0.0.1:${port}`, onUnavailable: 'degraded', logger, connectTimeout: 1 });
    let own: RedisServer | undefined;
    try {
      const start = await timed(() => store.connect());
      expect(start.error).toBeUndefined();
      expect(said(/starting degraded/)).toHaveLength(1);
      expect(said(/unavailable/)).toHaveLength(0); // one warning at start, not two
      expect(store.outages).toBe(1);
      expect(String(said(/starting degraded/)[0]!.msg)).toContain(`cannot reach Redis at redis://127.0.0.1:${port}`);
      const call = await timed(() => store.get('k'));
      expect((call.error as WsgateError).code).toBe('WSGATE_STORE_UNAVAILABLE');
      expect(call.ms).toBeLessThan(200);
      own = await RedisServer.start({ port });
      await until(async () => (await store.set('k', 'v').then(() => true, () => false)), 5000, 'the store to connect');
      expect(await store.get('k')).toBe('v');
      expect(store.available).toBe(true);
    } finally {
      await store.close();
      await own?.close();
    }
  });

  it('authenticates with the password in the URL; a wrong or missing one is refused at start', async () => {
    const own = await RedisServer.start({ password: 'pa:ss w/rd' });
    try {
      const store = new RedisStore({ url: own.url });
      await store.connect();
      await store.set('k', 'v');
      expect(await store.get('k')).toBe('v');
      await store.close();

      for (const url of [`redis://:wrong@127.0.0.1:${own.port}`, `redis://127.0.0.1:${own.port}`]) {
        const refused = new RedisStore({ url, connectTimeout: 2 });
        const call = await timed(() => refused.connect());
        expect((call.error as WsgateError)?.code).toBe('WSGATE_STORE_UNAVAILABLE');
        expect((call.error as Error).message).toMatch(/cannot reach Redis at redis:\/\/.*(WRONGPASS|NOAUTH)/);
        expect((call.error as Error).message).not.toContain('wrong');
      }
    } finally {
      await own.close();
    }
  });

  it('refuses bad options and bad TTLs, and calls before connect()', async () => {
    expect(() => new RedisStore({ url: 'http://127.0.0.1:6379' })).toThrow(/url must be a Redis URL .* got the scheme "http:"/);
    expect(() => new RedisStore({ url: 'redis://h/x' })).toThrow(/database number/);
    expect(() => new RedisStore({ url: 'redis://h', commandTimeout: 0 })).toThrow(/commandTimeout must be a number of seconds above 0/);
    const unopened = new RedisStore({ url: redis.url });
    await expect(unopened.get('k')).rejects.toThrow(/not connected yet: call connect\(\) \(gateway\.listen\(\) does\) before/);
    const store = await open();
    try {
      for (const ttl of [0, -1, Number.NaN, Infinity]) await expect(store.set('k', 'v', ttl)).rejects.toThrow(/TTL must be a number of seconds above 0/);
      await expect(store.connect()).rejects.toThrow(/called twice/);
    } finally {
      await store.close();
    }
  });
});
