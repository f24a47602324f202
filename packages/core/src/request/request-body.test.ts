/** `req.body({ limit })` on a live gateway: real sockets, plain and chunked bodies, the 413s, upgrades, and inject(). */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawExchange, startTestGateway, upgradeRequest, type TestGateway } from '@wsgate/test-kit';
import { defineRoutes } from '../script/routes.js';
import { inject } from './inject.js';
import { WsgateError } from '../errors.js';

const LIMIT = 64;
const echo = defineRoutes({
  async 'http:request'(req) {
    const body = await req.body({ limit: LIMIT });
    // A second read shares the first; a smaller limit is checked against the same bytes.
    const again = await req.body({ limit: req.query.has('small') ? 4 : LIMIT });
    return req.reply(200, 'OK', 'application/octet-stream', Buffer.concat([Buffer.from(`${body.length}:${again === body}:`), body]));
  },
});
let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway(echo);
});
afterAll(() => gw.close());

/** node's client: a request with `body` written in `parts` (chunked when no length is given). */
function send(path: string, parts: string[], headers: Record<string, string> = {}): Promise<{ status: number; body: string; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ port: gw.port, host: '127.0.0.1', method: 'PUT', path, headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body, connection: res.headers.connection }));
    });
    req.on('error', reject);
    for (const p of parts) req.write(p);
    req.end();
  });
}

describe('req.body({ limit })', () => {
  it('reads a body with Content-Length, and a chunked one, whole', async () => {
    expect(await send('/', ['<a/>'], { 'Content-Length': '4' })).toMatchObject({ status: 200, body: '4:true:<a/>' });
    expect(await send('/', ['<list>', '<entry/>', '</list>'])).toMatchObject({ status: 200, body: '21:true:<list><entry/></list>' });
    expect(await send('/', [])).toMatchObject({ status: 200, body: '0:true:' });
  });

  it('answers 413 from Content-Length before reading, and closes the connection', async () => {
    const { text } = await rawExchange(gw.port, `PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: ${LIMIT + 1}\r\n\r\n`);
    expect(text).toMatch(/^HTTP\/1\.1 413 Payload Too Large\r\n[\s\S]*\r\n\r\nRequest body larger than 64 bytes\n$/);
    expect(text).toMatch(/\r\nConnection: close\r\n/);
  });

  it('answers 413 for a chunked body once the bytes pass the limit', async () => {
    const chunk = 'x'.repeat(40);
    const r = await send('/', [chunk, chunk]);
    expect(r).toMatchObject({ status: 413, body: 'Request body larger than 64 bytes\n', connection: 'close' });
  });

  it('answers 413 on a second read with a smaller limit', async () => {
    expect(await send('/?small', ['12345'], { 'Content-Length': '5' })).toMatchObject({ status: 413, body: 'Request body larger than 4 bytes\n' });
  });

  it('is empty for an upgrade request', async () => {
    const { text } = await rawExchange(gw.port, upgradeRequest());
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\n0:true:$/);
  });

  it('refuses a limit that is not a whole number of bytes, and a proxy after the body was read', async () => {
    let caught: unknown;
    const routes = defineRoutes({
      async 'http:request'(req) {
        try {
          void req.body({ limit: -1 });
        } catch (err) {
          caught = err;
        }
        await req.body({ limit: 10 });
        return req.proxy({ forward: async () => undefined });
      },
    });
    const result = await inject(routes, { method: 'PUT', headers: { Host: 'h' }, body: 'abc' });
    expect(caught).toBeInstanceOf(WsgateError);
    expect((caught as WsgateError).message).toBe('req.body(): limit must be a whole number of bytes, got -1');
    expect(result).toMatchObject({ kind: 'reply', status: 500 });
  });

  it('reads what inject() was given', async () => {
    const result = await inject(echo, { method: 'PUT', headers: { Host: 'h' }, body: 'hello' });
    expect(result).toMatchObject({ kind: 'reply', status: 200, body: '5:true:hello' });
  });
});
