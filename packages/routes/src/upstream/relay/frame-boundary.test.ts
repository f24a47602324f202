/** Frame boundaries of a raw stream, read from headers only, and the first close frame, across any chunking. */
import { describe, expect, it } from 'vitest';
import { closeFrame, FrameBoundary } from './frame-boundary.js';

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

  it('reads the first close frame, masked or not, whatever the chunking; no code is 1005, a bad one 1002', () => {
    const cases: [Buffer, { code: number; reason: string }][] = [
      [closeFrame(1000, 'bye', true), { code: 1000, reason: 'bye' }],
      [closeFrame(4001, 'révoqué', false), { code: 4001, reason: 'révoqué' }],
      [Buffer.from([0x88, 0x00]), { code: 1005, reason: '' }],
      [Buffer.from([0x88, 0x02, 0x03, 0xee]), { code: 1002, reason: '' }],
    ];
    for (const [close, seen] of cases) {
      const stream = Buffer.concat([frame(300, true), close, closeFrame(1001, 'second', false), frame(5, false)]);
      for (const size of [1, 3, 64, stream.length]) {
        const b = new FrameBoundary();
        for (let i = 0; i < stream.length; i += size) b.push(stream.subarray(i, i + size));
        expect(b.close, `chunks of ${size}`).toEqual(seen);
      }
    }
  });

  it('pushToBoundary() stops at the end of the frame under way, and says where', () => {
    const b = new FrameBoundary();
    // Between frames already: nothing of the chunk is followed.
    expect(b.pushToBoundary(Buffer.alloc(3))).toBe(0);
    const first = frame(70_000, false);
    const stream = Buffer.concat([first, frame(5, true)]);
    b.push(stream.subarray(0, 10));
    expect(b.pushToBoundary(stream.subarray(10, 1000))).toBe(-1);
    expect(b.pushToBoundary(stream.subarray(1000))).toBe(first.length - 1000);
    expect(b.atBoundary).toBe(true);
  });
});
