import { once } from 'node:events';
import { Duplex } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { rawExchange, startHandshakeServer, upgradeRequest, type HandshakeServer } from '@wsgate/test-kit';
import { REJECTION_TIMEOUT_MS } from './raw-response.js';
import { formatRejection, writeRejection } from './reject.js';
import type { HandshakeRejection } from './types.js';

const VERSION_426: HandshakeRejection = {
  ok: false,
  status: 426,
  reason: 'Unsupported Sec-WebSocket-Version "8", expected 13',
  headers: { 'Sec-WebSocket-Version': '13' },
};

/** A socket stand-in whose writes never complete, like a peer that never reads. */
class StuckSocket extends Duplex {
  override _read(): void {}
  override _write(_chunk: unknown, _enc: BufferEncoding, _cb: (err?: Error) => void): void {}
}

describe('formatRejection', () => {
  it('produces the exact response', () => {
    expect(formatRejection(VERSION_426)).toBe(
      'HTTP/1.1 426 Upgrade Required\r\n' +
        'Connection: close\r\n' +
        'Content-Type: text/plain; charset=utf-8\r\n' +
        'Sec-WebSocket-Version: 13\r\n' +
        'Content-Length: 51\r\n' +
        '\r\n' +
        'Unsupported Sec-WebSocket-Version "8", expected 13\n',
    );
  });
  it('counts Content-Length in bytes, not characters', () => {
    const text = formatRejection({ ok: false, status: 400, reason: 'Origine refusée: «é»', headers: {} });
    // 20 characters, of which 4 take two bytes in UTF-8, plus the newline.
    expect(text).toContain('Content-Length: 25\r\n');
    const body = text.slice(text.indexOf('\r\n\r\n') + 4);
    expect(Buffer.byteLength(body)).toBe(25);
  });
  it("uses node's standard reason phrase", () => {
    expect(formatRejection({ ok: false, status: 405, reason: 'x', headers: { Allow: 'GET' } })).toMatch(
      /^HTTP\/1\.1 405 Method Not Allowed\r\n[^]*\r\nAllow: GET\r\nContent-Length: 2\r\n\r\nx\n$/,
    );
  });
});

describe('writeRejection on a real socket', () => {
  let gw: HandshakeServer | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  it('sends the whole response, then the server closes the connection', async () => {
    gw = await startHandshakeServer();
    const request = upgradeRequest({ path: '/ws' }).replace('Sec-WebSocket-Version: 13', 'Sec-WebSocket-Version: 8');
    const result = await rawExchange(gw.port, request);
    expect(result.data.toString()).toBe(formatRejection(VERSION_426));
    expect(result.ended).toBe(true);
    expect(await gw.connections()).toBe(0);
  });

  it('sends 405 with Allow for a POST upgrade', async () => {
    gw = await startHandshakeServer();
    const result = await rawExchange(gw.port, upgradeRequest({ path: '/ws' }).replace('GET /ws', 'POST /ws'));
    expect(result.data.toString()).toMatch(/^HTTP\/1\.1 405 Method Not Allowed\r\n/);
    expect(result.data.toString()).toContain('\r\nAllow: GET\r\n');
    expect(result.ended).toBe(true);
  });

  it('closes even when the client keeps sending after its request', async () => {
    gw = await startHandshakeServer();
    const request = upgradeRequest({ path: '/ws' }).replace('Sec-WebSocket-Version: 13', 'Sec-WebSocket-Version: 8');
    const result = await rawExchange(gw.port, Buffer.concat([Buffer.from(request), Buffer.alloc(64 * 1024, 1)]));
    expect(result.data.toString()).toMatch(/^HTTP\/1\.1 426 Upgrade Required\r\n/);
    await expect.poll(() => gw!.connections()).toBe(0);
  });
});

describe('writeRejection on odd sockets', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('destroys a socket whose peer never reads, after the timeout', () => {
    vi.useFakeTimers();
    const socket = new StuckSocket();
    writeRejection(socket, VERSION_426);
    expect(socket.destroyed).toBe(false);
    vi.advanceTimersByTime(REJECTION_TIMEOUT_MS - 1);
    expect(socket.destroyed).toBe(false);
    vi.advanceTimersByTime(1);
    expect(socket.destroyed).toBe(true);
  });

  it('destroys a socket that can no longer be written, without writing', () => {
    const socket = new StuckSocket();
    const write = vi.spyOn(socket, 'write');
    socket.end();
    writeRejection(socket, VERSION_426);
    expect(write).not.toHaveBeenCalled();
    expect(socket.destroyed).toBe(true);
  });

  it('destroys the socket once the response is flushed', async () => {
    const written: Buffer[] = [];
    const socket = new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        written.push(chunk);
        cb();
      },
    });
    writeRejection(socket, VERSION_426);
    await once(socket, 'close');
    expect(Buffer.concat(written).toString()).toBe(formatRejection(VERSION_426));
  });

  it('destroys the socket on a write error, without throwing', async () => {
    const socket = new Duplex({
      read() {},
      write(_chunk, _enc, cb) {
        cb(new Error('EPIPE'));
      },
    });
    // events.once() would reject on the 'error' event; only the close matters here.
    const closed = new Promise((resolve) => socket.on('close', resolve));
    expect(() => writeRejection(socket, VERSION_426)).not.toThrow();
    await closed;
    expect(socket.destroyed).toBe(true);
  });

  it('does nothing on a destroyed socket, nor on a second call', () => {
    const destroyed = new StuckSocket();
    destroyed.destroy();
    expect(() => writeRejection(destroyed, VERSION_426)).not.toThrow();

    const socket = new StuckSocket();
    const write = vi.spyOn(socket, 'write');
    const end = vi.spyOn(socket, 'end');
    writeRejection(socket, VERSION_426);
    writeRejection(socket, { ...VERSION_426, status: 400 });
    expect(end).toHaveBeenCalledTimes(1);
    expect(write.mock.calls.length + end.mock.calls.length).toBe(1);
    socket.destroy();
  });

  it('never throws, even when the socket does', () => {
    const socket = new StuckSocket();
    socket.end = () => {
      throw new Error('boom');
    };
    expect(() => writeRejection(socket, VERSION_426)).not.toThrow();
    expect(socket.destroyed).toBe(true);
  });
});
