import { describe, expect, it } from 'vitest';
import { WindowCounts } from './window-counts.js';

describe('WindowCounts', () => {
  it('counts hits per key within a window', () => {
    const w = new WindowCounts(10);
    expect([w.hit('a', 5), w.hit('a', 5), w.hit('b', 5), w.hit('a', 5)]).toEqual([1, 2, 1, 3]);
    expect(w.previousHits('a')).toBe(0);
  });

  it('moves the counts to "previous" when the next window starts, and forgets them one window later', () => {
    const w = new WindowCounts(10);
    w.hit('a', 5);
    w.hit('a', 5);
    expect(w.hit('a', 6)).toBe(1);
    expect(w.previousHits('a')).toBe(2);
    w.hit('b', 7);
    expect(w.previousHits('a')).toBe(1);
    w.hit('b', 8);
    expect(w.previousHits('a')).toBe(0);
  });

  it('starts afresh after a gap of windows, or when the clock steps back', () => {
    const w = new WindowCounts(10);
    w.hit('a', 5);
    expect(w.hit('a', 7)).toBe(1);
    expect(w.previousHits('a')).toBe(0);
    w.hit('a', 7);
    expect(w.hit('a', 3)).toBe(1);
    expect(w.previousHits('a')).toBe(0);
  });

  it('counts at most maxKeys keys a window: a new key past them reads 1 each time, the counted ones go on', () => {
    const w = new WindowCounts(2);
    w.hit('a', 1);
    w.hit('b', 1);
    expect([w.hit('c', 1), w.hit('c', 1)]).toEqual([1, 1]);
    expect(w.hit('a', 1)).toBe(2);
    expect(w.hit('c', 2)).toBe(1);
    expect(w.hit('c', 2)).toBe(2);
  });
});
