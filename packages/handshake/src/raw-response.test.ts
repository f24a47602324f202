import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { formatRawResponse, writeRawResponse } from './raw-response.js';

const CHALLENGES = ['Digest realm="gw", algorithm=SHA-256, nonce="n1"', 'Digest realm="gw", algorithm=MD5, nonce="n1"'];

describe('formatRawResponse', () => {
  it('writes a repeated header as one line per value, in order, among the others', () => {
    expect(formatRawResponse(401, 'Unauthorized', { 'Content-Type': 'text/plain', 'WWW-Authenticate': CHALLENGES, 'X-After': '1' }, 'no\n')).toBe(
      'HTTP/1.1 401 Unauthorized\r\n' +
        'Connection: close\r\n' +
        'Content-Type: text/plain\r\n' +
        `WWW-Authenticate: ${CHALLENGES[0]}\r\n` +
        `WWW-Authenticate: ${CHALLENGES[1]}\r\n` +
        'X-After: 1\r\n' +
        'Content-Length: 3\r\n' +
        '\r\n' +
        'no\n',
    );
  });

  it('writes no line for an empty list', () => {
    expect(formatRawResponse(204, 'No Content', { 'Set-Cookie': [] }, '')).toBe('HTTP/1.1 204 No Content\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });

  it('refuses CR, LF and other controls in a value, naming the header', () => {
    expect(() => formatRawResponse(200, 'OK', { 'X-Evil': 'a\r\nSet-Cookie: x=1' }, '')).toThrow(
      new TypeError('response header X-Evil: the value holds CR, LF or another control character'),
    );
    expect(() => formatRawResponse(200, 'OK', { 'X-List': ['fine', 'bad\n'] }, '')).toThrow(/^response header X-List: /);
    expect(() => formatRawResponse(200, 'OK', { 'X-Nul': 'a\0b' }, '')).toThrow(TypeError);
    // HTAB and obs-text are field-value characters.
    expect(formatRawResponse(200, 'OK', { 'X-Tab': 'a\tb\u00e9' }, '')).toContain('X-Tab: a\tb\u00e9\r\n');
  });
});

describe('writeRawResponse on a real socket', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
    server = undefined;
  });

  /** A server that answers each connection with `answer(socket)`; returns what the client read and whether it closed. */
  async function exchange(answer: (socket: Socket) => void): Promise<{ text: string; closed: boolean }> {
    server = createServer(answer);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
    let text = '';
    client.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    client.on('error', () => {});
    const closed = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 3000);
      client.once('close', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    client.destroy();
    return { text, closed };
  }

  it('sends every value of a repeated header on its own line, then closes', async () => {
    const { text, closed } = await exchange((socket) => writeRawResponse(socket, 401, 'Unauthorized', { 'WWW-Authenticate': CHALLENGES }, ''));
    expect(closed).toBe(true);
    expect(text.split('\r\n').filter((line) => line.startsWith('WWW-Authenticate: '))).toEqual(CHALLENGES.map((c) => `WWW-Authenticate: ${c}`));
  });

  it('does not throw on a value with CR LF: the socket is closed with nothing written', async () => {
    let threw: unknown;
    const { text, closed } = await exchange((socket) => {
      try {
        writeRawResponse(socket, 200, 'OK', { 'X-Evil': ['ok', 'a\r\nSet-Cookie: x=1'] }, 'body');
      } catch (err) {
        threw = err;
      }
    });
    expect(threw).toBeUndefined();
    expect(closed).toBe(true);
    expect(text).toBe('');
  });
});
