import { describe, expect, it } from 'vitest';
import { sleep, until } from '@wsgate/test-kit';
import { Deadlines } from './deadlines.js';

describe('Deadlines: many transactions on one timer', () => {
  it('fires each item once, never early and at most one resolution late; cancelled and re-armed items follow', async () => {
    const fired = new Map<string, number>();
    const start = Date.now();
    const d = new Deadlines<string>(20, (item) => {
      expect(fired.has(item)).toBe(false);
      fired.set(item, Date.now() - start);
    });
    d.arm('a', 50);
    d.arm('b', 120);
    d.arm('c', 50);
    d.arm('gone', 50);
    d.cancel('gone');
    d.arm('moved', 30);
    d.arm('moved', 150); // a later deadline replaces the first
    expect(d.size).toBe(4);
    await until(() => fired.size === 4, 2000, 'four deadlines');
    expect(fired.has('gone')).toBe(false);
    // not early; late by a resolution plus what a busy test machine adds
    expect(fired.get('a')).toBeGreaterThanOrEqual(50);
    expect(fired.get('c')).toBeGreaterThanOrEqual(50);
    expect(fired.get('b')).toBeGreaterThanOrEqual(120);
    expect(fired.get('moved')).toBeGreaterThanOrEqual(150);
    expect(fired.get('a')!).toBeLessThan(fired.get('b')!);
    expect(d.size).toBe(0);
  });

  it('an expiry may cancel another item due at the same time, or arm itself again', async () => {
    const fired: string[] = [];
    const d: Deadlines<string> = new Deadlines<string>(10, (item) => {
      fired.push(item);
      if (item === 'x') d.cancel('y'), d.cancel('x2');
      if (item === 'again' && fired.filter((f) => f === 'again').length === 1) d.arm('again', 30);
    });
    // x, y and x2 fall in one bucket; whichever comes first, x's expiry stops the other two when they are later
    d.arm('x', 40);
    d.arm('y', 40);
    d.arm('x2', 40);
    d.arm('again', 20);
    await until(() => fired.filter((f) => f === 'again').length === 2, 2000, 'again twice');
    await sleep(80);
    expect(fired.filter((f) => f === 'x')).toEqual(['x']);
    expect(fired).not.toContain('y');
    expect(fired).not.toContain('x2');
    expect(d.size).toBe(0);
  });

  it('clear() forgets every deadline', async () => {
    const fired: number[] = [];
    const d = new Deadlines<number>(10, (n) => fired.push(n));
    for (let i = 0; i < 100; i++) d.arm(i, 20 + i);
    d.clear();
    expect(d.size).toBe(0);
    await sleep(200);
    expect(fired).toEqual([]);
    expect(() => new Deadlines<number>(0, () => undefined)).toThrow(/resolution must be at least 1 ms/);
  });
});
