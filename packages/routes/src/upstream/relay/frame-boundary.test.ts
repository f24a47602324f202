/** Frame boundaries of a raw stream, read from headers only, across any chunking. */
import { describe, expect, it } from 'vitest';
import { FrameBoundary } from './frame-boundary.js';

describe('FrameBoundary', () => {
  const frame = (len: number, masked: boolean): Buffer => {
    const ext = len < 126 ? 0 : len < 65536 ? 2 : 8;
    const head = Buffer.alloc(2 + ext + (masked ? 4 : 0));
    head[0] = 0x82;
    head[1] = (masked ? 0x80 : 0) | (ext === 0 ? len : ext === 2 ? 126 : 127);
    if (ext === 2) head.writeUInt16BE(len, 2);
    if (ext === 8) head.writeBigUInt64BE(BigInt(len), 2);
    return Buffer.concat([head, Buffer.alloc(len, 7)]);
  };

  it('knows when the stream is between frames, whatever the chunking', () => {
    const stream = Buffer.concat([frame(5, true), frame(300, true), frame(70_000, false), frame(0, false)]);
    const ends = new Set<number>();
    let at = 0;
    for (const f of [frame(5, true), frame(300, true), frame(70_000, false), frame(0, false)]) ends.add((at += f.length));
    for (const size of [1, 2, 3, 7, 64, 4096, stream.length]) {
      const b = new FrameBoundary();
      const wrong: number[] = [];
      for (let i = 0; i < stream.length; i += size) {
        const end = Math.min(stream.length, i + size);
        b.push(stream.subarray(i, end));
        if (b.atBoundary !== ends.has(end)) wrong.push(end);
      }
      expect(wrong, `chunks of ${size}`).toEqual([]);
    }
  });
});
