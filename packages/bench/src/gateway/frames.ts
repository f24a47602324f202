/**
 * RFC 6455 frames for the load generator: client frames are built once, masked with a fixed key, and reused;
 * server frames (never masked) go through a minimal incremental reader that only counts. Nothing here allocates
 * per message, so the generator measures the server rather than itself.
 */

const MASK = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);

export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;

/** One masked client frame with FIN set. */
export function clientFrame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const lenBytes = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const head = 2 + lenBytes + 4;
  const frame = Buffer.allocUnsafe(head + len);
  frame[0] = 0x80 | opcode;
  if (lenBytes === 0) {
    frame[1] = 0x80 | len;
  } else if (lenBytes === 2) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(len, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(len), 2);
  }
  MASK.copy(frame, 2 + lenBytes);
  for (let i = 0; i < len; i++) frame[head + i] = payload[i]! ^ MASK[i & 3]!;
  return frame;
}

/** The masked close frame a client sends to start the closing handshake (1000, no reason). */
export const CLOSE_FRAME = clientFrame(OP_CLOSE, Buffer.from([0x03, 0xe8]));

/**
 * `batches[k]` is `k` copies of one frame back to back, for k = 0..max: refilling k answered slots is one
 * `write()` of a prebuilt buffer.
 */
export function frameBatches(frame: Buffer, max: number): Buffer[] {
  const batches: Buffer[] = [Buffer.alloc(0)];
  const all = Buffer.concat(Array.from({ length: max }, () => frame));
  for (let k = 1; k <= max; k++) batches.push(all.subarray(0, k * frame.length));
  return batches;
}

/** The HTTP upgrade request, fixed key included (the server computes the accept value every time all the same). */
export function upgradeRequest(port: number, path: string, protocol: string): Buffer {
  return Buffer.from(
    `GET ${path} HTTP/1.1\r\n` +
      `Host: 127.0.0.1:${port}\r\n` +
      'Upgrade: websocket\r\n' +
      'Connection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
      'Sec-WebSocket-Version: 13\r\n' +
      `Sec-WebSocket-Protocol: ${protocol}\r\n` +
      '\r\n',
    'latin1',
  );
}

/**
 * Counts the frames a server sends, across any chunking. Data messages complete on a FIN frame; pings are
 * handed to `onPing` (the keepalive of a server must not drop an idle client); a close frame sets `closed`.
 */
export class FrameReader {
  /** Data messages completed so far. */
  messages = 0;
  /** Data payload bytes received so far. */
  bytes = 0;
  closed = false;

  private readonly head = Buffer.alloc(14);
  private headLen = 0;
  private headNeed = 2;
  private remaining = 0;
  private opcode = 0;
  private fin = false;
  private control: Buffer | undefined;
  private controlLen = 0;

  constructor(private readonly onPing?: (payload: Buffer) => void) {}

  /** Feeds one chunk; returns how many data messages it completed. */
  push(chunk: Buffer): number {
    const n = chunk.length;
    let done = 0;
    let i = 0;
    while (i < n) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, n - i);
        if (this.opcode >= OP_CLOSE) {
          chunk.copy(this.control!, this.controlLen, i, i + take);
          this.controlLen += take;
        } else {
          this.bytes += take;
        }
        this.remaining -= take;
        i += take;
        if (this.remaining === 0) done += this.endFrame();
        continue;
      }
      this.head[this.headLen++] = chunk[i++]!;
      if (this.headLen < this.headNeed) continue;
      if (this.headLen === 2) {
        const len7 = this.head[1]! & 0x7f;
        if (len7 === 126) this.headNeed = 4;
        else if (len7 === 127) this.headNeed = 10;
        if (this.headLen < this.headNeed) continue;
      }
      done += this.startFrame();
    }
    return done;
  }

  private startFrame(): number {
    const b0 = this.head[0]!;
    const len7 = this.head[1]! & 0x7f;
    this.fin = (b0 & 0x80) !== 0;
    this.opcode = b0 & 0x0f;
    this.remaining = len7 < 126 ? len7 : len7 === 126 ? this.head.readUInt16BE(2) : Number(this.head.readBigUInt64BE(2));
    this.headLen = 0;
    this.headNeed = 2;
    if (this.opcode >= OP_CLOSE) {
      this.control ??= Buffer.alloc(125);
      this.controlLen = 0;
    }
    return this.remaining === 0 ? this.endFrame() : 0;
  }

  private endFrame(): number {
    if (this.opcode < OP_CLOSE) {
      if (!this.fin) return 0;
      this.messages++;
      return 1;
    }
    if (this.opcode === OP_CLOSE) this.closed = true;
    else if (this.opcode === OP_PING) this.onPing?.(this.control!.subarray(0, this.controlLen));
    return 0;
  }
}

/** The masked pong answering a ping (rare: built when needed). */
export function pongFrame(payload: Buffer): Buffer {
  return clientFrame(OP_PONG, payload);
}
