/**
 * The Redis store's batching: calls made in one turn of the event loop reach Redis as one script, each answered
 * exactly as its own command would answer it (held against MemoryStore, turn by turn), one call's error its own,
 * and an outage failing every call of the batch with the typed error modules fail open or closed on.
 */
import { createClient } from '@redis/client';
import { killRedises, RedisServer, until } from '@wsgate/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WsgateError } from '../errors.js';
import { MemoryStore } from './memory-store.js';
import { RedisStore } from './redis-store.js';
import type { Store } from './store.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(async () => {
  await redis?.close();
  killRedises();
});

let prefixes = 0;
async function open(url = redis.url, commandTimeout?: number): Promise<RedisStore> {
  const store = new RedisStore({ url, prefix: `batch${++prefixes}:`, ...(commandTimeout === undefined ? {} : { commandTimeout }) });
  await store.connect();
  return store;
}

/** `INFO commandstats` of a Redis: calls by command name (inner calls of scripts included). */
async function commandCalls(url: string): Promise<Record<string, number>> {
  const client = createClient({ url });
  await client.connect();
  try {
    const info = await client.info('commandstats');
    const calls: Record<string, number> = {};
    for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[m[1]!] = Number(m[2]);
    return calls;
  } finally {
    await client.close();
  }
}

/** How a call ended, comparable across stores: its value, or its error's code. */
const outcome = (call: Promise<unknown>) => call.then((value) => ({ value }), (err: unknown) => ({ error: (err as WsgateError).code ?? String(err) }));

type Op = (s: Store) => Promise<unknown>;

/** A random call on a handful of keys, so that calls of one turn meet on the same keys. */
function randomOp(random: () => number): Op {
  const key = `k${Math.floor(random() * 4)}`;
  const n = Math.floor(random() * 5);
  const ttl = random() < 0.5 ? undefined : 30;
  const values = [undefined, '0', '3', 'text', '7'];
  switch (Math.floor(random() * 8)) {
    case 0:
      return (s) => s.get(key);
    case 1:
      return (s) => s.set(key, values[1 + (n % 4)]!, ttl);
    case 2:
      return (s) => s.add(key, String(n), ttl);
    case 3:
      return (s) => s.delete(key);
    case 4:
      return (s) => s.increment(key, n - 1, ttl);
    case 5:
      return (s) => s.raise(key, n, ttl);
    case 6:
      return (s) => s.compareAndSet(key, values[n], values[(n + 1) % 5], ttl);
    default:
      return (s) => s.increment(key);
  }
}

/** A small seeded generator (mulberry32): the same turns every run. */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('RedisStore batching on a real redis-server', () => {
  it('answers every call of a turn as MemoryStore does, in call order, over 300 random turns of 1 to 12 calls', async () => {
    const store = await open();
    const memory = new MemoryStore();
    const random = seeded(15);
    try {
      for (let turn = 0; turn < 300; turn++) {
        const ops = Array.from({ length: 1 + Math.floor(random() * 12) }, () => randomOp(random));
        // All the turn's calls before any answer: one batch for Redis, run in order by the memory store.
        const fromRedis = Promise.all(ops.map((op) => outcome(op(store))));
        const fromMemory = Promise.all(ops.map((op) => outcome(op(memory))));
        expect(await fromRedis, `turn ${turn}`).toEqual(await fromMemory);
      }
    } finally {
      await Promise.all([store.close(), memory.close()]);
    }
  });

  it('sends the calls of one turn as one EVALSHA (a rate count and a token read: one command, not two)', async () => {
    const store = await open();
    try {
      await store.set('token', '{"exp":1}', 60);
      const before = await commandCalls(redis.url);
      const [count, token] = await Promise.all([store.increment('rate', 1, 2), store.get('token')]);
      const after = await commandCalls(redis.url);
      expect([count, token]).toEqual([1, '{"exp":1}']);
      expect((after.evalsha ?? 0) - (before.evalsha ?? 0)).toBe(1);
      // The GET ran inside the script: no GET of its own on the wire (INFO's own client adds none).
      expect((after.incrby ?? 0) - (before.incrby ?? 0)).toBe(1);
      expect((after.get ?? 0) - (before.get ?? 0)).toBe(1);
      const counted = await Promise.all(Array.from({ length: 50 }, () => store.increment('many', 1, 5)));
      expect(counted.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect((await commandCalls(redis.url)).evalsha! - after.evalsha!).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('while a batch is in flight, the calls of the next turns wait for it and leave together (one EVALSHA for six turns)', async () => {
    const store = await open();
    const busy = createClient({ url: redis.url });
    const monitor = createClient({ url: redis.url });
    await Promise.all([busy.connect(), monitor.connect()]);
    const seen: string[] = [];
    try {
      await Promise.all(Array.from({ length: 7 }, (_, i) => store.set(`k${i}`, `v${i}`)));
      await monitor.monitor((line) => {
        // Commands from clients, not those scripts run ("[0 lua]").
        if (!/\[\d+ lua\]/.test(line) && /"(get|evalsha)"/i.test(line)) seen.push(/"(\w+)"/.exec(line)![1]!.toLowerCase());
      });
      // Redis busy for 60 ms (a script spinning on TIME): the first call stays in flight meanwhile.
      const spin = busy.eval(`local t = redis.call('TIME') local s = t[1] * 1000000 + t[2] repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] - s > 60000 return 1`);
      await new Promise((r) => setTimeout(r, 10));
      const answers = [store.get('k0')];
      for (let turn = 1; turn <= 6; turn++) {
        await new Promise((r) => setImmediate(r));
        answers.push(store.get(`k${turn}`));
      }
      expect(await Promise.all(answers)).toEqual(['v0', 'v1', 'v2', 'v3', 'v4', 'v5', 'v6']);
      await spin;
      await until(async () => seen.length >= 2, 2000, 'the monitor to show the calls');
      // Without the wait: seven GETs. The wait is bounded (a few ms), so a slow turn on a busy machine may split it.
      expect(seen[0]).toBe('get');
      expect(seen.slice(1).every((c) => c === 'evalsha')).toBe(true);
      expect(seen.length).toBeLessThanOrEqual(3);
    } finally {
      await Promise.all([store.close(), busy.close(), monitor.close()]);
    }
  });

  it('calls made while a batch is out leave no sooner than 3 ms after it (busy: fewer, fuller writes); calls one after another never wait', async () => {
    const store = await open();
    try {
      await store.set('k', 'v');
      const first = store.get('k');
      // The first call has left (its batch is out); this one gathers behind it.
      await new Promise((r) => setImmediate(r));
      const start = performance.now();
      const gathered = await store.get('k');
      const waited = performance.now() - start;
      expect([await first, gathered]).toEqual(['v', 'v']);
      expect(waited).toBeGreaterThanOrEqual(2);
      // Nothing out when each call is made: none waits for the gathering (a round trip each, well under 2 ms).
      const each: number[] = [];
      for (let i = 0; i < 21; i++) {
        const t = performance.now();
        await store.get('k');
        each.push(performance.now() - t);
      }
      expect(each.sort((a, b) => a - b)[10]).toBeLessThan(2);
    } finally {
      await store.close();
    }
  });

  it('the wait behind a batch in flight is bounded: with Redis frozen, a later call fails within its own command timeout', async () => {
    const own = await RedisServer.start();
    const store = await open(own.url, 0.3);
    try {
      await store.set('k', 'v');
      own.freeze();
      const first = outcome(store.get('k'));
      await new Promise((r) => setTimeout(r, 100));
      const start = performance.now();
      const later = await outcome(store.get('k'));
      const ms = performance.now() - start;
      expect(later).toEqual({ error: 'WSGATE_STORE_UNAVAILABLE' });
      expect(await first).toEqual({ error: 'WSGATE_STORE_UNAVAILABLE' });
      // Sent within a few ms though the first was still out: failed by its own timeout, not the first's plus its own.
      expect(ms).toBeGreaterThanOrEqual(250);
      expect(ms).toBeLessThan(450);
    } finally {
      own.thaw();
      await store.close();
      await own.close();
    }
  });

  it('a call that fails (a counter that is not an integer) fails alone: the others of its batch are answered', async () => {
    const store = await open();
    try {
      await store.set('text', 'abc');
      const [a, bad, b, badRaise, c] = await Promise.all([
        outcome(store.increment('n', 2)),
        outcome(store.increment('text', 1, 5)),
        outcome(store.get('text')),
        outcome(store.raise('text', 3)),
        outcome(store.increment('n', 1)),
      ]);
      expect([a, b, c]).toEqual([{ value: 2 }, { value: 'abc' }, { value: 3 }]);
      expect(bad).toEqual({ error: 'WSGATE_API_MISUSE' });
      expect(badRaise).toEqual({ error: 'WSGATE_API_MISUSE' });
      const message = await store.increment('text').catch((e: Error) => e.message);
      expect(message).toBe('store key "text" does not hold an integer');
    } finally {
      await store.close();
    }
  });

  it('more calls in a turn than one script takes: split into several, all answered, no count lost', async () => {
    const store = await open();
    try {
      const counts = await Promise.all(Array.from({ length: 1500 }, () => store.increment('big', 1, 30)));
      expect(new Set(counts).size).toBe(1500);
      expect(Math.max(...counts)).toBe(1500);
    } finally {
      await store.close();
    }
  });

  it('Redis frozen with a batch in flight: every call of it fails with WSGATE_STORE_UNAVAILABLE within the command timeout, each counted', async () => {
    const own = await RedisServer.start();
    const store = await open(own.url, 0.3);
    try {
      await store.set('token', 'v');
      own.freeze();
      const start = performance.now();
      const calls = await Promise.all([outcome(store.increment('rate', 1, 2)), outcome(store.get('token')), outcome(store.set('x', '1'))]);
      expect(performance.now() - start).toBeLessThan(800);
      expect(calls).toEqual([{ error: 'WSGATE_STORE_UNAVAILABLE' }, { error: 'WSGATE_STORE_UNAVAILABLE' }, { error: 'WSGATE_STORE_UNAVAILABLE' }]);
      expect(store.unavailableCalls).toBe(3);
      expect(store.outages).toBe(1);
      own.thaw();
      await until(async () => (await store.get('token').then((v) => v === 'v', () => false)), 5000, 'answers again');
      expect(await Promise.all([store.increment('rate', 1, 2), store.get('token')])).toEqual([1, 'v']);
    } finally {
      own.thaw();
      await store.close();
      await own.close();
    }
  });

  it('Redis stopped with a batch in flight: every call of it fails typed, at once; back on its port, batches work again', async () => {
    const own = await RedisServer.start();
    const store = await open(own.url, 1);
    try {
      await store.set('token', 'v');
      const inFlight = Promise.all([outcome(store.increment('rate', 1, 2)), outcome(store.get('token'))]);
      const stopped = own.stop();
      const [rate, token] = await inFlight;
      await stopped;
      // Sent before the kill landed, a batch may have been answered; one that was not fails typed, every call of it.
      expect(rate.error === undefined).toBe(token.error === undefined);
      if (rate.error !== undefined) expect([rate.error, token.error]).toEqual(['WSGATE_STORE_UNAVAILABLE', 'WSGATE_STORE_UNAVAILABLE']);
      const start = performance.now();
      const down = await Promise.all([outcome(store.increment('rate', 1, 2)), outcome(store.get('token'))]);
      expect(performance.now() - start).toBeLessThan(500);
      expect(down).toEqual([{ error: 'WSGATE_STORE_UNAVAILABLE' }, { error: 'WSGATE_STORE_UNAVAILABLE' }]);
      await own.resume();
      await until(async () => (await store.get('token').then(() => true, () => false)), 5000, 'the store to reconnect');
      expect(await Promise.all([store.increment('rate', 1, 2), store.get('token'), store.add('token', 'w')])).toEqual([1, undefined, true]);
    } finally {
      await store.close();
      await own.close();
    }
  });

  it('close() right after calls of the same turn: they are sent and answered, not dropped', async () => {
    const store = await open();
    const calls = Promise.all([store.set('a', '1'), store.increment('n'), store.get('a')]);
    await store.close();
    expect(await calls).toEqual([undefined, 1, '1']);
    await expect(store.get('a')).rejects.toThrow(/closed/);
  });
});
