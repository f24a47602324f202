import { randomFillSync } from 'node:crypto';

/** A close frame that went through: its code (1005 when it had none) and reason. */
export interface SeenClose {
  readonly code: number;
  readonly reason: string;
}

/**
 * Follows the frame boundaries of one direction of a raw WebSocket tunnel without parsing payloads: only the
 * 2–14 header bytes of each frame are read, payloads are skipped by length — except a close frame's (at most
 * 125 bytes), read for its code. The gateway may put a frame of its own (a ping, a close) into the stream
 * only between two frames; this says when that is.
 */
export class FrameBoundary {
  /** Payload bytes still to skip in the current frame. */
  private remaining = 0;
  /**
   * Header bytes gathered so far, and how many this header needs. Made only for a header split across reads
   * (rare): two buffers of their own in every tunnel were two ArrayBuffers per handshake for the GC.
   */
  private head: Buffer | undefined;
  private headLen = 0;
  private headNeed = 2;
  /**
   * The payload of the close frame being read (from node's shared pool: at most 125 bytes), its masking key as
   * a 32-bit number (undefined: not masked), and how much of it has come.
   */
  private closing: { payload: Buffer; mask: number | undefined; got: number } | undefined;
  /** The first close frame of this direction, once it has gone through whole. */
  close: SeenClose | undefined;

  /** True between frames: a whole frame may be written into the stream now. */
  get atBoundary(): boolean {
    return this.remaining === 0 && this.headLen === 0;
  }

  push(chunk: Buffer): void {
    this.follow(chunk, false);
  }

  /**
   * Follows `chunk` up to the first boundary in it and says where that is: 0 when the stream is between frames
   * already, -1 when the chunk ends inside a frame (all of it followed). The rest is for `push()`.
   */
  pushToBoundary(chunk: Buffer): number {
    return this.follow(chunk, true);
  }

  private follow(chunk: Buffer, stop: boolean): number {
    const n = chunk.length;
    let i = 0;
    for (;;) {
      if (stop && this.remaining === 0 && this.headLen === 0) return i;
      if (i >= n) return stop ? -1 : n;
      if (this.remaining > 0) {
        const skip = Math.min(this.remaining, n - i);
        if (this.closing !== undefined) this.readClose(chunk, i, skip);
        this.remaining -= skip;
        i += skip;
        continue;
      }
      // Whole header in this chunk: read it in place (the common case).
      if (this.headLen === 0 && n - i >= 2) {
        const need = headerLength(chunk[i + 1]!);
        if (n - i >= need) {
          this.frame(chunk, i, need);
          i += need;
          continue;
        }
      }
      const head = (this.head ??= Buffer.allocUnsafe(14));
      head[this.headLen++] = chunk[i++]!;
      if (this.headLen === 2) this.headNeed = headerLength(head[1]!);
      if (this.headLen === this.headNeed) {
        this.headLen = 0;
        this.headNeed = 2;
        this.frame(head, 0, headerLength(head[1]!));
      }
    }
  }

  /** A frame header at `at`, `size` bytes long. */
  private frame(buf: Buffer, at: number, size: number): void {
    this.remaining = payloadLength(buf, at);
    // Opcode 8: a close frame; only the first of a direction counts.
    if ((buf[at]! & 0x0f) !== 8 || this.close !== undefined) return;
    const mask = buf[at + 1]! & 0x80 ? buf.readUInt32BE(at + size - 4) : undefined;
    // A control frame's payload is at most 125 bytes; a longer one is malformed, its first 125 are enough. Every
    // byte of it is copied in before it is read (readClose), so an unzeroed buffer is safe.
    this.closing = { payload: Buffer.allocUnsafe(Math.min(this.remaining, 125)), mask, got: 0 };
    if (this.remaining === 0) this.readClose(buf, at, 0);
  }

  private readClose(chunk: Buffer, at: number, n: number): void {
    const c = this.closing!;
    const take = Math.min(n, c.payload.length - c.got);
    chunk.copy(c.payload, c.got, at, at + take);
    c.got += take;
    if (this.remaining - n > 0) return;
    this.closing = undefined;
    const p = c.payload;
    const mask = c.mask;
    if (mask !== undefined) for (let i = 0; i < p.length; i++) p[i]! ^= (mask >>> ((3 - (i & 3)) * 8)) & 0xff;
    // No payload: no status (1005); a code no endpoint may send makes the receiver fail with 1002.
    const code = p.length < 2 ? 1005 : p.readUInt16BE(0);
    this.close = { code: p.length < 2 || isCloseCode(code) ? code : 1002, reason: p.toString('utf8', 2) };
  }
}

/** Header length from the second byte: 2, plus 2 or 8 for extended lengths, plus 4 for a mask. */
function headerLength(b1: number): number {
  const len7 = b1 & 0x7f;
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
}

function payloadLength(buf: Buffer, at: number): number {
  const len7 = buf[at + 1]! & 0x7f;
  if (len7 < 126) return len7;
  if (len7 === 126) return buf.readUInt16BE(at + 2);
  // 2^53 bytes is beyond any real stream; Number keeps the arithmetic cheap.
  return Number(buf.readBigUInt64BE(at + 2));
}

/** A ping from the gateway: unmasked towards the client, masked towards the upstream (RFC 6455 §5.3). */
export const PING_TO_CLIENT = Buffer.from([0x89, 0x00]);
export const PING_TO_UPSTREAM = Buffer.from([0x89, 0x80, 0x5a, 0x17, 0xc3, 0x2e]);

/** A close code an endpoint may send (RFC 6455 §7.4). */
function isCloseCode(code: number): boolean {
  return Number.isInteger(code) && ((code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999));
}

/** A close code the gateway may send (RFC 6455 §7.4): throws a TypeError, as `ws` does, for any other. */
export function checkCloseCode(code: number): void {
  if (!isCloseCode(code)) throw new TypeError(`First argument must be a valid error code number, got ${code}`);
}

/** A close frame: unmasked towards the client, masked towards the upstream (RFC 6455 §5.5.1). */
export function closeFrame(code: number, reason: string, masked: boolean): Buffer {
  let text = Buffer.from(reason, 'utf8');
  // A control frame's payload is at most 125 bytes: the code and 123 of reason (cut at a character boundary).
  if (text.length > 123) text = Buffer.from(text.subarray(0, 123).toString('utf8').replace(/\uFFFD$/, ''), 'utf8');
  const payload = Buffer.alloc(2 + text.length);
  payload.writeUInt16BE(code, 0);
  text.copy(payload, 2);
  if (!masked) return Buffer.concat([Buffer.from([0x88, payload.length]), payload]);
  const mask = randomFillSync(Buffer.alloc(4));
  for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i % 4]!;
  return Buffer.concat([Buffer.from([0x88, 0x80 | payload.length]), mask, payload]);
}
