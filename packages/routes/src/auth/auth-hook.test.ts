import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { attempt, attributesOf, guardRoutes, testGateways } from '@wsgate/test-kit';
import { authHook, type AuthHookOptions } from './auth-hook.js';

/** The hook: answers as `answer` says for the request's path, and keeps every description it got. */
let hook: http.Server;
let hookUrl: string;
const received: { path: string; headers: http.IncomingHttpHeaders; body: Record<string, unknown> }[] = [];
const answers: Record<string, (res: http.ServerResponse) => void> = {
  '/admit': (res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"attributes":{"userId":"42","__proto__":{"polluted":true}}}'),
  '/admit-empty': (res) => res.writeHead(204).end(),
  '/admit-garbage': (res) => res.writeHead(200).end('yes'),
  '/refuse': (res) => res.writeHead(403).end('no'),
  '/unauthorized': (res) => res.writeHead(401).end(),
  '/busy': (res) => res.writeHead(429, { 'Retry-After': '30' }).end(),
  '/broken': (res) => res.writeHead(500).end(),
  '/redirect': (res) => res.writeHead(302, { Location: '/elsewhere' }).end(),
  '/silent': () => {},
  '/huge': (res) => res.writeHead(200).end('x'.repeat(100_000)),
};

beforeAll(async () => {
  hook = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url!, headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString()) });
      answers[req.url!]!(res);
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}`;
});
afterAll(() => {
  hook.closeAllConnections();
  hook.close();
});

describe('authHook() against a real HTTP hook', () => {
  const startGateway = testGateways();
  afterEach(() => {
    received.length = 0;
  });

  const start = (path: string, options: Partial<AuthHookOptions> = {}) =>
    startGateway(guardRoutes(authHook({ url: hookUrl + path, node: 'gw-1', headers: { Authorization: 'Bearer hook-secret' }, ...options })));

  it('POSTs the session description: node, session, client, origin, user agent, forwarded header, subprotocols, path, cookie names only', async () => {
    const g = await start('/refuse');
    await attempt(`${g.url}/ws?room=7`, {
      protocols: ['sip', 'echo'],
      headers: { Origin: 'https://app.example.com', 'User-Agent': 'JsSIP 3.10', 'X-Forwarded-For': '203.0.113.9', Cookie: 'AUTH=secret-value; lang=en' },
    });
    expect(received).toHaveLength(1);
    const { body, headers } = received[0]!;
    expect(headers).toMatchObject({ 'content-type': 'application/json', authorization: 'Bearer hook-secret' });
    expect(body).toEqual({
      node: 'gw-1',
      session: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      client: { ip: '127.0.0.1', port: expect.any(Number) },
      listener: '127.0.0.1:0',
      method: 'GET',
      path: '/ws',
      query: 'room=7',
      host: `127.0.0.1:${g.port}`,
      origin: 'https://app.example.com',
      userAgent: 'JsSIP 3.10',
      forwarded: { 'X-Forwarded-For': '203.0.113.9' },
      protocols: ['sip', 'echo'],
      cookies: ['AUTH', 'lang'],
    });
    expect(JSON.stringify(body)).not.toContain('secret-value');
    expect(body.session).toBe(`127.0.0.1:${(body.client as { port: number }).port}`);
  });

  it('admits on 2xx and attaches the answer\'s attributes (never to the prototype)', async () => {
    const g = await start('/admit');
    const ok = await attempt(g.url);
    expect(ok.status).toBe(101);
    const attributes = await attributesOf(ok.ws!);
    expect(attributes).toEqual({ session: expect.stringMatching(/^127\.0\.0\.1:\d+$/), userId: '42' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    ok.ws!.close();
  });

  it('admits on 204, and on a 2xx whose body is not the expected JSON (logged)', async () => {
    for (const path of ['/admit-empty', '/admit-garbage']) {
      const g = await start(path);
      const ok = await attempt(g.url);
      expect(ok.status).toBe(101);
      ok.ws!.close();
      if (path === '/admit-garbage') expect(g.logs.some((l) => String(l.msg).includes('attributes ignored'))).toBe(true);
    }
  });

  it.each([
    ['/refuse', 403, undefined],
    ['/unauthorized', 401, undefined],
    ['/busy', 429, '30'],
    ['/broken', 500, undefined],
    ['/redirect', 403, undefined],
  ])('refuses when the hook answers %s: %i', async (path, status, retryAfter) => {
    const g = await start(path);
    const refused = await attempt(g.url);
    expect(refused.status).toBe(status);
    expect(refused.headers['retry-after']).toBe(retryAfter);
    expect(g.logs).toContainEqual(expect.objectContaining({ msg: 'request refused', by: 'auth-hook', status }));
  });

  it('answers 503 when the hook times out, is unreachable or answers too much; the client does not learn the hook address', async () => {
    const g = await start('/silent', { timeout: 0.2 });
    const started = Date.now();
    const late = await attempt(g.url);
    expect(late.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(late.body).toBe('auth hook unavailable\n');
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    const unreachable = await startGateway(guardRoutes(authHook({ url: `http://127.0.0.1:${port}/connect` })));
    expect((await attempt(unreachable.url)).status).toBe(503);
    expect(unreachable.logs).toContainEqual(expect.objectContaining({ msg: 'auth hook failed', err: expect.objectContaining({ code: 'ECONNREFUSED' }) }));
    const huge = await startGateway(guardRoutes(authHook({ url: `${hookUrl}/huge` })));
    expect((await attempt(huge.url)).status).toBe(503);
  });

  it('admits when the hook fails with failOpen, and says so in the log', async () => {
    const g = await start('/silent', { timeout: 0.1, failOpen: true });
    const ok = await attempt(g.url);
    expect(ok.status).toBe(101);
    ok.ws!.close();
    expect(g.logs.some((l) => l.msg === 'auth hook failed; admitted (failOpen)')).toBe(true);
  });

  it('refuses bad options at creation', () => {
    expect(() => authHook({ url: 'ftp://x/connect' })).toThrow(/authHook\(\)\.url: expected an http or https URL/);
    expect(() => authHook({ url: 'http://x/', timeout: -1 })).toThrow(/authHook\(\)\.timeout/);
    expect(() => authHook({ url: 'http://x/', headers: { 'X-Key': 'a\r\nInjected: 1' } })).toThrow(/authHook\(\)\.headers\.X-Key: expected a header value/);
    expect(() => authHook({ url: 'http://x/', forwardedHeaders: ['bad header'] })).toThrow(/authHook\(\)\.forwardedHeaders\[0\]/);
  });
});
