/**
 * What every core `Store` must do, as one suite each store runs (MemoryStore, RedisStore): the same cases,
 * on the real clock with short TTLs, so that a Redis-backed store is held to exactly what the memory one does.
 * `open()` gives a fresh, empty store for each case (a Redis store under a prefix of its own).
 */
import type { Store } from '@wsgate/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sleep } from './wait.js';

export function storeBehaviour(name: string, open: () => Promise<Store>): void {
  describe(`${name}: the Store behaviour`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    it('gets, sets, replaces and deletes', async () => {
      expect(await store.get('a')).toBeUndefined();
      await store.set('a', '1');
      await store.set('a', '2');
      expect(await store.get('a')).toBe('2');
      expect(await store.delete('a')).toBe(true);
      expect(await store.delete('a')).toBe(false);
      expect(await store.get('a')).toBeUndefined();
    });

    it('expires keys after their TTL, fractions of a second included', async () => {
      await store.set('a', 'x', 0.3);
      await store.set('b', 'y', 5);
      expect(await store.get('a')).toBe('x');
      await sleep(400);
      expect(await store.get('a')).toBeUndefined();
      expect(await store.delete('a')).toBe(false);
      expect(await store.get('b')).toBe('y');
    });

    it('set without a TTL takes the expiry away', async () => {
      await store.set('a', '1', 0.2);
      await store.set('a', '2');
      await sleep(300);
      expect(await store.get('a')).toBe('2');
    });

    it('adds only when absent or expired', async () => {
      expect(await store.add('n', '1', 0.3)).toBe(true);
      expect(await store.add('n', '2', 0.3)).toBe(false);
      expect(await store.get('n')).toBe('1');
      await sleep(400);
      expect(await store.add('n', '3')).toBe(true);
      expect(await store.get('n')).toBe('3');
    });

    it('increments in a fixed window: the TTL runs from creation', async () => {
      expect(await store.increment('c', 1, 0.6)).toBe(1);
      await sleep(250);
      expect(await store.increment('c', 1, 0.6)).toBe(2); // not extended: gone 0.6 s after the first
      expect(await store.increment('c', -5)).toBe(-3);
      await sleep(450);
      expect(await store.increment('c', 1, 0.6)).toBe(1);
      expect(await store.increment('d')).toBe(1);
      expect(await store.increment('d', 10)).toBe(11);
    });

    it('raises only to a greater value, resetting the TTL', async () => {
      expect(await store.raise('nc', 1, 0.6)).toBe(true);
      expect(await store.raise('nc', 1, 0.6)).toBe(false);
      expect(await store.raise('nc', 0, 0.6)).toBe(false);
      expect(await store.raise('nc', 3, 0.6)).toBe(true);
      await sleep(300);
      expect(await store.raise('nc', 4, 0.6)).toBe(true);
      await sleep(300);
      expect(await store.get('nc')).toBe('4'); // 0.6 s from the last raise, not from the first
      await sleep(400);
      expect(await store.get('nc')).toBeUndefined();
      expect(await store.raise('nc', 1)).toBe(true);
    });

    it('refuses to count on a value that is not an integer', async () => {
      await store.set('s', 'text');
      await expect(store.increment('s')).rejects.toThrow(/does not hold an integer/);
      await expect(store.raise('s', 2)).rejects.toThrow(/does not hold an integer/);
      expect(await store.get('s')).toBe('text');
    });

    it('compares and sets: absent, equal, different, delete, TTL', async () => {
      expect(await store.compareAndSet('r', 'x', 'y')).toBe(false); // absent is not "x"
      expect(await store.get('r')).toBeUndefined();
      expect(await store.compareAndSet('r', undefined, 'v1', 5)).toBe(true);
      expect(await store.compareAndSet('r', undefined, 'v2')).toBe(false); // present is not absent
      expect(await store.compareAndSet('r', 'v0', 'v2')).toBe(false);
      expect(await store.get('r')).toBe('v1');
      expect(await store.compareAndSet('r', 'v1', 'v2', 5)).toBe(true);
      expect(await store.get('r')).toBe('v2');
      expect(await store.compareAndSet('r', 'v2', undefined)).toBe(true); // deleted
      expect(await store.get('r')).toBeUndefined();
      expect(await store.compareAndSet('r', undefined, 'v3', 0.15)).toBe(true);
      await sleep(250);
      expect(await store.compareAndSet('r', 'v3', 'v4')).toBe(false); // expired is absent
      expect(await store.compareAndSet('r', undefined, 'v4')).toBe(true);
      await sleep(250);
      expect(await store.get('r')).toBe('v4'); // no TTL given: none
      expect(await store.compareAndSet('r', '', 'v5')).toBe(false); // the empty string is a value, not absence
      await store.set('e', '');
      expect(await store.compareAndSet('e', undefined, 'x')).toBe(false);
      expect(await store.compareAndSet('e', '', 'x')).toBe(true);
    });

    it('is atomic under concurrency: one add wins, increments all count, the highest raise stays, one compare-and-set wins', async () => {
      const adds = await Promise.all(Array.from({ length: 200 }, (_, i) => store.add('once', String(i), 30)));
      expect(adds.filter(Boolean)).toHaveLength(1);
      expect(await store.get('once')).toBe(String(adds.indexOf(true)));

      const counts = await Promise.all(Array.from({ length: 200 }, () => store.increment('count', 1, 30)));
      expect(new Set(counts).size).toBe(200);
      expect(Math.max(...counts)).toBe(200);

      // Shuffled, each value twice: at most one raise per value wins, and the highest is what stays.
      const values = Array.from({ length: 200 }, (_, i) => (i % 100) + 1).sort(() => Math.random() - 0.5);
      const raised = await Promise.all(values.map((v) => store.raise('nc', v, 30)));
      const winners = values.filter((_, i) => raised[i]);
      expect(new Set(winners).size).toBe(winners.length);
      expect(winners).toContain(100);
      expect(await store.get('nc')).toBe('100');

      await store.set('reg', 'v0');
      const swaps = await Promise.all(Array.from({ length: 200 }, (_, i) => store.compareAndSet('reg', 'v0', `w${i}`, 30)));
      expect(swaps.filter(Boolean)).toHaveLength(1);
      expect(await store.get('reg')).toBe(`w${swaps.indexOf(true)}`);
    });
  });
}
