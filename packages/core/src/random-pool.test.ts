import { describe, expect, it } from 'vitest';
import { randomHex, randomInto } from './random-pool.js';

describe('the random pool', () => {
  it('hands out each byte once: 10,000 tags across many refills are all different and well spread', () => {
    const tags = Array.from({ length: 10_000 }, () => randomHex(8));
    expect(new Set(tags).size).toBe(tags.length);
    expect(tags.every((t) => /^[0-9a-f]{16}$/.test(t))).toBe(true);
    // every hex digit turns up in every position: no stuck bytes after a refill
    for (let i = 0; i < 16; i++) expect(new Set(tags.map((t) => t[i])).size).toBe(16);
  });

  it('fills a slice of a buffer and leaves the rest alone; refuses more than the pool holds', () => {
    const b = Buffer.alloc(32);
    randomInto(b, 8, 12);
    expect(b.subarray(0, 8).every((x) => x === 0)).toBe(true);
    expect(b.subarray(20).every((x) => x === 0)).toBe(true);
    expect(b.subarray(8, 20).some((x) => x !== 0)).toBe(true);
    expect(() => randomHex(5000)).toThrow(RangeError);
  });
});
