import { collectedHeap, storeBehaviour } from '@wsgate/test-kit';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from './memory-store.js';

// The cases every store passes (RedisStore runs them too, in redis-store.test.ts).
storeBehaviour('MemoryStore', async () => new MemoryStore());

function clocked(maxEntries?: number) {
  let t = 1_000_000;
  const store = new MemoryStore({ now: () => t, ...(maxEntries ? { maxEntries } : {}) });
  return { store, advance: (seconds: number) => void (t += seconds * 1000) };
}

describe('MemoryStore on its own clock', () => {
  it('expires keys after their TTL, with no timer', async () => {
    const { store, advance } = clocked();
    await store.set('a', 'x', 2);
    advance(1.999);
    expect(await store.get('a')).toBe('x');
    advance(0.001);
    expect(await store.get('a')).toBeUndefined();
    expect(await store.delete('a')).toBe(false);
  });

  it('adds only when absent or expired', async () => {
    const { store, advance } = clocked();
    expect(await store.add('n', '1', 1)).toBe(true);
    expect(await store.add('n', '2', 1)).toBe(false);
    expect(await store.get('n')).toBe('1');
    advance(1);
    expect(await store.add('n', '3', 1)).toBe(true);
  });

  it('increments atomically in a fixed window: the TTL runs from creation', async () => {
    const { store, advance } = clocked();
    expect(await store.increment('c', 1, 10)).toBe(1);
    advance(6);
    expect(await store.increment('c', 1, 10)).toBe(2);
    expect(await store.increment('c', -5)).toBe(-3);
    advance(4);
    expect(await store.increment('c', 1, 10)).toBe(1);
    const many = await Promise.all(Array.from({ length: 100 }, () => store.increment('d')));
    expect(new Set(many).size).toBe(100);
  });

  it('raises only to a greater value, resetting the TTL', async () => {
    const { store, advance } = clocked();
    expect(await store.raise('nc', 1, 5)).toBe(true);
    expect(await store.raise('nc', 1, 5)).toBe(false);
    expect(await store.raise('nc', 0, 5)).toBe(false);
    expect(await store.raise('nc', 3, 5)).toBe(true);
    advance(4);
    expect(await store.raise('nc', 4, 5)).toBe(true);
    advance(4);
    expect(await store.get('nc')).toBe('4');
    advance(1);
    expect(await store.raise('nc', 1, 5)).toBe(true);
  });

  it('compares and sets against live values only: an expired key is absent', async () => {
    const { store, advance } = clocked();
    expect(await store.compareAndSet('r', undefined, 'v1', 2)).toBe(true);
    advance(1.999);
    expect(await store.compareAndSet('r', undefined, 'v2')).toBe(false);
    advance(0.001);
    expect(await store.compareAndSet('r', 'v1', 'v2')).toBe(false);
    expect(await store.compareAndSet('r', undefined, 'v2')).toBe(true);
  });

  it('stays bounded: expired keys go first, then the oldest written', async () => {
    const { store, advance } = clocked(3);
    await store.set('short', '1', 1);
    await store.set('a', '1');
    await store.set('b', '1');
    advance(2);
    await store.set('c', '1'); // full: the expired one goes
    expect([await store.get('a'), await store.get('b'), await store.get('c')]).toEqual(['1', '1', '1']);
    await store.set('a', '2'); // rewritten: now the newest
    await store.set('d', '1'); // full of live keys: the oldest written (b) goes
    expect(store.size).toBe(3);
    expect(await store.get('b')).toBeUndefined();
    expect(await store.get('a')).toBe('2');
  });

  it('says how far back it may have forgotten: the write time of the newest live key it dropped, not of expired ones', async () => {
    const { store, advance } = clocked(2);
    await store.set('short', '1', 1); // t0
    advance(2);
    await store.set('a', '1'); // t0 + 2 s
    await store.set('b', '1'); // full: the expired one goes, nothing live is lost
    expect(store.forgottenThrough).toBe(-Infinity);
    advance(1);
    await store.set('c', '1'); // full of live keys: a (written at t0 + 2 s) goes
    expect(store.forgottenThrough).toBe(1_000_000 + 2000);
    advance(1);
    await store.set('b', '2'); // rewritten, no room needed
    await store.set('d', '1'); // c (t0 + 3 s) goes
    expect(store.forgottenThrough).toBe(1_000_000 + 3000);
  });

  it('sweeps expired keys as writes go by', async () => {
    const { store, advance } = clocked();
    for (let i = 0; i < 1000; i++) await store.set(`old${i}`, 'x', 1);
    advance(2);
    for (let i = 0; i < 1000; i++) await store.set(`new${i}`, 'x', 100);
    expect(store.size).toBeLessThanOrEqual(1000 + 10);
  });

  it('keeps copies of what it is given, not views into the text they were cut from', async () => {
    // A key or value cut out of a request (a client address from X-Forwarded-For, a user name) would otherwise
    // keep that whole request alive for as long as the key lives: up to maxEntries requests.
    const store = new MemoryStore();
    const before = collectedHeap();
    for (let i = 0; i < 300; i++) {
      const head = `GET / HTTP/1.1\r\nX-Forwarded-For: 2001:db8:0:0:0:0:0:${i.toString(16)}\r\nX-Pad: ${'x'.repeat(30_000)}\r\n\r\n`;
      const at = head.indexOf('2001:');
      const address = head.slice(at, head.indexOf('\r\n', at));
      await store.set(`rate:${address}`, address, 60);
      await store.increment(address, 1, 60);
    }
    await new Promise((done) => setTimeout(done, 1));
    // 300 heads of 30 KB would be 9 MB; the keys and values themselves a few tens of KB
    expect(collectedHeap() - before).toBeLessThan(1_000_000);
    expect(await store.get('rate:2001:db8:0:0:0:0:0:12b')).toBe('2001:db8:0:0:0:0:0:12b');
  });

  it('refuses a bad bound', () => {
    expect(() => new MemoryStore({ maxEntries: 0 })).toThrow(/maxEntries/);
  });
});
