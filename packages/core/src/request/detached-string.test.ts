/** A detached copy must not keep the text it was cut from: measured on the heap, as that is the point. */
import { collectedHeap } from '@wsgate/test-kit';
import { describe, expect, it } from 'vitest';
import { detachedString } from './detached-string.js';

/** Heap bytes kept per string when 2,000 cuts of 40 characters out of 8 KiB heads are kept. */
function keptPerString(cut: (text: string) => string): number {
  const before = collectedHeap();
  const kept: string[] = [];
  for (let i = 0; i < 2000; i++) {
    const head = Buffer.from(`GET /room/${i} HTTP/1.1\r\nOrigin: https://app${i}.example.com:8443\r\n${'x'.repeat(8192)}`).toString('latin1');
    const at = head.indexOf('https://');
    kept.push(cut(head.slice(at, at + 40)));
  }
  const per = (collectedHeap() - before) / kept.length;
  expect(kept[7]!.startsWith('https://app7.example.com:8443')).toBe(true);
  return per;
}

describe('detachedString', () => {
  it('keeps the characters, not the head they were cut from', () => {
    // A plain slice keeps each 8 KiB head; the detached copy a few dozen bytes.
    expect(keptPerString((s) => s)).toBeGreaterThan(8000);
    expect(keptPerString(detachedString)).toBeLessThan(200);
  });

  it('returns the same characters, short and long, wide ones too', () => {
    for (const s of ['', 'sip', '123456789012', '1234567890123', 'graphql-transport-ws', 'https://例え.jp/é']) expect(detachedString(s)).toBe(s);
  });
});
