import { describe, expect, it } from 'vitest';
import { CLOSE_FRAME, FrameReader, OP_BINARY, OP_TEXT, clientFrame, frameBatches, upgradeRequest } from './frames.js';

/** A server frame (unmasked), as `ws` sends them. */
function serverFrame(opcode: number, payload: Buffer, fin = true): Buffer {
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0, len]) : len < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  head[0] = (fin ? 0x80 : 0) | opcode;
  if (len >= 126 && len < 65536) {
    head[1] = 126;
    head.writeUInt16BE(len, 2);
  } else if (len >= 65536) {
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([head, payload]);
}

/** Unmasks a client frame built by `clientFrame`. */
function unmask(frame: Buffer): { opcode: number; payload: Buffer } {
  const len7 = frame[1]! & 0x7f;
  expect(frame[1]! & 0x80).toBe(0x80);
  const at = len7 < 126 ? 2 : len7 === 126 ? 4 : 10;
  const mask = frame.subarray(at, at + 4);
  const payload = Buffer.from(frame.subarray(at + 4));
  for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i & 3]!;
  return { opcode: frame[0]! & 0x0f, payload };
}

describe('clientFrame', () => {
  it('masks payloads of every length class so that they unmask to the original', () => {
    for (const size of [0, 64, 125, 126, 65535, 65536]) {
      const payload = Buffer.alloc(size, 'ab');
      const { opcode, payload: back } = unmask(clientFrame(OP_BINARY, payload));
      expect(opcode).toBe(OP_BINARY);
      expect(back.equals(payload)).toBe(true);
    }
  });

  it('builds a close frame with code 1000', () => {
    const { opcode, payload } = unmask(CLOSE_FRAME);
    expect(opcode).toBe(8);
    expect(payload.readUInt16BE(0)).toBe(1000);
  });

  it('prebuilds batches of k frames', () => {
    const frame = clientFrame(OP_TEXT, Buffer.from('hi'));
    const batches = frameBatches(frame, 4);
    expect(batches.map((b) => b.length)).toEqual([0, 8, 16, 24, 32]);
  });

  it('writes an upgrade request that offers the subprotocol', () => {
    const text = upgradeRequest(8080, '/', 'sip').toString('latin1');
    expect(text).toMatch(/^GET \/ HTTP\/1\.1\r\nHost: 127\.0\.0\.1:8080\r\n/);
    expect(text).toContain('\r\nSec-WebSocket-Protocol: sip\r\n');
    expect(text.endsWith('\r\n\r\n')).toBe(true);
  });
});

describe('FrameReader', () => {
  const stream = Buffer.concat([
    serverFrame(OP_TEXT, Buffer.alloc(64, 'x')),
    serverFrame(0x9, Buffer.from('ping!')),
    serverFrame(OP_BINARY, Buffer.alloc(300, 1)),
    serverFrame(OP_BINARY, Buffer.alloc(70_000, 2), false),
    serverFrame(0x0, Buffer.alloc(10, 3)),
    serverFrame(OP_TEXT, Buffer.alloc(0)),
    serverFrame(0x8, Buffer.from([0x03, 0xe8])),
  ]);

  it('counts messages and payload bytes however the stream is cut', () => {
    for (const cut of [1, 2, 3, 7, 64, 1000, stream.length]) {
      const pings: string[] = [];
      const reader = new FrameReader((p) => pings.push(p.toString()));
      let done = 0;
      for (let i = 0; i < stream.length; i += cut) done += reader.push(stream.subarray(i, i + cut));
      expect(done, `cut ${cut}`).toBe(4);
      expect(reader.messages).toBe(4);
      expect(reader.bytes).toBe(64 + 300 + 70_000 + 10);
      expect(pings).toEqual(['ping!']);
      expect(reader.closed).toBe(true);
    }
  });
});
