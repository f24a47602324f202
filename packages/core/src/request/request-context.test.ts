import { collectedHeap } from '@wsgate/test-kit';
import { describe, expect, it } from 'vitest';
import { inject } from './inject.js';
import { defineRoutes } from '../script/routes.js';
import type { RequestContext } from './request-context.js';

/** Runs one route that captures the context and answers 204. */
async function capture(request: Parameters<typeof inject>[1]): Promise<RequestContext> {
  let seen: RequestContext | undefined;
  await inject(
    defineRoutes({
      'http:request'(req) {
        seen = req;
        return req.reply(204, 'No Content');
      },
    }),
    request,
  );
  return seen!;
}

describe('RequestContext accessors', () => {
  it('reads the request line, addresses and listener', async () => {
    const req = await capture({
      method: 'POST',
      url: '/a//b?x=1&x=2&y=%20z',
      listener: { name: 'wss', port: 8443, tls: true },
      remoteAddress: '192.0.2.7',
      remotePort: 41000,
      headers: { Host: 'h' },
    });
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/a//b?x=1&x=2&y=%20z');
    expect(req.path).toBe('/a/b'); // merge_slashes, as nginx (request/request-target.ts)
    expect((await capture({ url: '/a/./b/../c?q', headers: { Host: 'h' } })).path).toBe('/a/c');
    expect((await capture({ url: '/x%2Fy', headers: { Host: 'h' } })).path).toBe('/x%2Fy');
    expect((await capture({ url: '/plain', headers: { Host: 'h' } })).path).toBe('/plain');
    expect(req.query.getAll('x')).toEqual(['1', '2']);
    expect(req.query.get('y')).toBe(' z');
    expect(req.port).toBe(8443);
    expect(req.secure).toBe(true);
    expect(req.listener.name).toBe('wss');
    expect(req.remoteAddress).toBe('192.0.2.7');
    expect(req.remotePort).toBe(41000);
    expect(req.httpVersion).toBe('1.1');
  });

  it('reads headers case-insensitively and keeps repeated ones', async () => {
    const req = await capture({ headers: { Host: 'h', 'X-Thing': ['one', 'two'], Origin: 'https://a.example' } });
    expect(req.header('x-THING')).toBe('one, two');
    expect(req.headerValues('X-Thing')).toEqual(['one', 'two']);
    expect(req.headerValues('missing')).toEqual([]);
    expect(req.header('missing')).toBeUndefined();
    expect(req.host).toBe('h');
    expect(req.origin).toBe('https://a.example');
  });

  it('parses cookies (RFC 6265), across repeated Cookie headers', async () => {
    const req = await capture({ headers: { Host: 'h', Cookie: ['AUTH=abc123; theme=dark', 'lang="en"'] } });
    // RFC 6265 §4.1.1: the DQUOTEs belong to the cookie-value.
    expect(req.cookies).toMatchObject({ AUTH: 'abc123', theme: 'dark', lang: '"en"' });
    expect(req.cookie('AUTH')).toBe('abc123');
    expect(req.cookie('nope')).toBeUndefined();
    const none = await capture({ headers: { Host: 'h' } });
    expect(none.cookies).toEqual({});
  });

  it('tells a WebSocket upgrade by tokens, not substrings', async () => {
    const up = (headers: Record<string, string>, method = 'GET') => capture({ method, headers: { Host: 'h', ...headers } }).then((r) => r.isWebSocketUpgrade);
    expect(await up({ Upgrade: 'WebSocket', Connection: 'keep-alive, Upgrade' })).toBe(true);
    expect(await up({ Upgrade: 'websocket', Connection: 'Upgrade' }, 'POST')).toBe(false);
    expect(await up({ Upgrade: 'websocketx', Connection: 'Upgrade' })).toBe(false);
    expect(await up({ Upgrade: 'websocket', Connection: 'upgraded' })).toBe(false);
    expect(await up({ Upgrade: 'websocket' })).toBe(false);
  });

  it('knows its own names and ports (isMyself)', async () => {
    const req = await capture({ headers: { Host: 'x' }, listener: { port: 8080 }, myself: { names: ['gw.example.com', '127.0.0.1'], ports: [8080, 8443] } });
    expect(req.isMyself('gw.example.com')).toBe(true);
    expect(req.isMyself('GW.example.com:8443')).toBe(true);
    expect(req.isMyself('127.0.0.1:8080')).toBe(true);
    expect(req.isMyself('gw.example.com:80')).toBe(false);
    expect(req.isMyself('other.example.com')).toBe(false);
  });

  it('keeps typed attributes', async () => {
    let user: string | undefined;
    await inject(
      defineRoutes<{ user: string; level: number }>({
        'http:request'(req) {
          req.set('user', 'alice');
          req.set('level', 3);
          user = req.get('user');
          return req.reply(204, 'No Content');
        },
      }),
      { headers: { Host: 'h' } },
    );
    expect(user).toBe('alice');
  });

  it('reads an empty attribute bag, shared and frozen, until something is set; set() gives the request its own', async () => {
    const a = await capture({ headers: { Host: 'h' } });
    const b = await capture({ headers: { Host: 'h' } });
    expect(a.attributes).toEqual({});
    expect(Object.isFrozen(a.attributes)).toBe(true);
    expect(() => {
      (a.attributes as Record<string, unknown>).user = 'mallory';
    }).toThrow(TypeError);
    a.set('user', 'alice');
    expect(a.attributes).toEqual({ user: 'alice' });
    expect(Object.isFrozen(a.attributes)).toBe(false);
    expect(b.attributes).toEqual({});
    expect(b.get('user')).toBeUndefined();
  });

  it('keeps a string attribute as a string of its own: the connection holds it, not the text it was cut from', async () => {
    // A user name from an Authorization header, a token from a Cookie, a room from the query: what set() keeps
    // goes on to the connection for its whole life, and a view would keep the request head alive with it.
    const requests = await Promise.all(Array.from({ length: 300 }, () => capture({ headers: { Host: 'h' } })));
    const before = collectedHeap();
    const kept = requests.map((req, i) => {
      const head = `authorization: Digest username="alice.longname${i}@example.com", x="${'x'.repeat(30_000)}"\r\n`;
      const at = head.indexOf('alice');
      req.set('user', head.slice(at, head.indexOf('"', at)));
      return req.attributes;
    });
    await new Promise((done) => setTimeout(done, 1));
    expect(collectedHeap() - before).toBeLessThan(1_000_000); // 300 heads of 30 KB would be 9 MB
    expect(kept.at(-1)!.user).toBe('alice.longname299@example.com');
  });
});
