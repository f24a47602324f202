/**
 * The floor beside the handshake figure: the least any node server does for a correct RFC 6455 handshake, on
 * `net` with no HTTP parser — read the request head, check it (./floor-upgrade-check.ts), answer 101 with the
 * SHA-1 accept (and `echo` when offered), then the closing handshake the benchmark's load starts after every
 * 101: a close frame answered with a close frame, and the server closes TCP first. What this costs is node's
 * sockets, a head split into lines and one SHA-1: no node WebSocket server can do less.
 *
 * It serves no messages: a data frame gets close 1003, a malformed frame 1002, a ping its pong. A head is
 * bounded in size (8 KiB: 431) and in time (10 s: 408, checked by a sweep once a second, as node's HTTP server
 * checks its headers timeout, rather than a timer per socket). A server child (./server-child.ts).
 */
import { isUtf8 } from 'node:buffer';
import net from 'node:net';
import { checkUpgrade } from './floor-upgrade-check.js';
import { serveChild } from './server-child.js';

const HEAD_END = Buffer.from('\r\n\r\n');
const MAX_HEAD = 8192;
const HEAD_TIMEOUT_MS = 10_000;

/** Sockets still owing their head, with the time it is due by. */
const waiting = new Map<net.Socket, number>();

function noop(): void {}

function refuseRaw(socket: net.Socket, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, 'latin1', () => socket.destroy());
}

function sweep(): void {
  const now = Date.now();
  for (const [socket, due] of waiting) {
    if (socket.destroyed) waiting.delete(socket);
    else if (due <= now) {
      waiting.delete(socket);
      refuseRaw(socket, 408, 'Request Timeout');
    }
  }
}

/** A close frame from the server (never masked) with `code`, then TCP closed from our side. */
function closeWith(socket: net.Socket, code: number): void {
  socket.end(Buffer.from([0x88, 2, code >> 8, code & 0xff]));
}

/** Codes a peer may send in a close frame (RFC 6455 §7.4; 1004–1006 and 1015 are never sent). */
function validCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

/** `length` payload bytes from `start`, unmasked with the key at `mask` (bytes from a frame's payload start). */
function unmasked(buf: Buffer, mask: number, start: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  const offset = start - (mask + 4);
  for (let i = 0; i < length; i++) out[i] = buf[start + i]! ^ buf[mask + ((offset + i) & 3)]!;
  return out;
}

/**
 * Reads the client's frames after the 101. Only control frames are kept (at most 125 bytes of payload): a data
 * frame is refused on its first two bytes, so what waits here for more bytes is bounded by one control frame.
 */
function frameReader(socket: net.Socket): (chunk: Buffer) => void {
  let pending: Buffer | undefined;
  let closed = false;
  const fail = (code: number) => {
    closed = true;
    closeWith(socket, code);
  };
  return (chunk) => {
    if (closed) return;
    const buf = pending === undefined ? chunk : Buffer.concat([pending, chunk]);
    pending = undefined;
    let at = 0;
    while (buf.length - at >= 2) {
      const b0 = buf[at]!;
      const b1 = buf[at + 1]!;
      const opcode = b0 & 0x0f;
      const len = b1 & 0x7f;
      // RSV bits without an extension, or a client frame without a mask (RFC 6455 §5.1, §5.2).
      if ((b0 & 0x70) !== 0 || (b1 & 0x80) === 0) return fail(1002);
      if (opcode < 0x8) return fail(opcode <= 0x2 ? 1003 : 1002);
      if (len > 125 || (b0 & 0x80) === 0 || (opcode !== 0x8 && opcode !== 0x9 && opcode !== 0xa)) return fail(1002);
      if (buf.length - at < 6 + len) break;
      const mask = at + 2;
      const payload = at + 6;
      at = payload + len;
      if (opcode === 0x8) {
        if (len === 1) return fail(1002);
        // The answer carries the code the client sent (as `ws` does); no code, none back.
        closed = true;
        if (len === 0) return void socket.end(Buffer.from([0x88, 0]));
        const code = ((buf[payload]! ^ buf[mask]!) << 8) | (buf[payload + 1]! ^ buf[mask + 1]!);
        if (!validCloseCode(code) || (len > 2 && !isUtf8(unmasked(buf, mask, payload + 2, len - 2)))) return fail(1002);
        return closeWith(socket, code);
      }
      if (opcode === 0x9) socket.write(Buffer.concat([Buffer.from([0x8a, len]), unmasked(buf, mask, payload, len)]));
    }
    if (at < buf.length) pending = Buffer.from(buf.subarray(at));
  };
}

function onConnection(socket: net.Socket): void {
  socket.on('error', noop);
  waiting.set(socket, Date.now() + HEAD_TIMEOUT_MS);
  let head: Buffer | undefined;
  const onHead = (chunk: Buffer) => {
    const buf = head === undefined ? chunk : Buffer.concat([head, chunk]);
    const end = buf.indexOf(HEAD_END);
    if (end === -1 ? buf.length > MAX_HEAD : end > MAX_HEAD) {
      waiting.delete(socket);
      socket.removeListener('data', onHead);
      return refuseRaw(socket, 431, 'Request Header Fields Too Large');
    }
    if (end === -1) {
      head = buf;
      return;
    }
    waiting.delete(socket);
    socket.removeListener('data', onHead);
    const answer = checkUpgrade(buf.toString('latin1', 0, end));
    if (!answer.ok) return void socket.end(answer.response, 'latin1', () => socket.destroy());
    socket.write(answer.response, 'latin1');
    const read = frameReader(socket);
    socket.on('data', read);
    if (buf.length > end + 4) read(buf.subarray(end + 4));
  };
  socket.on('data', onHead);
}

await serveChild('node floor (handshake)', async () => {
  const server = net.createServer({ noDelay: true }, onConnection);
  setInterval(sweep, 1000).unref();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return (server.address() as net.AddressInfo).port;
});
