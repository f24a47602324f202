/** Location and host routing, nginx's rules: through inject() (no sockets), then against a real upstream. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineRoutes, inject, WsgateError, type ProxyTarget } from '@wsgate/core';
import { exchange, startProxyGateway, startUpstream, type ProxyGateway, type Upstream } from '@wsgate/test-kit';
import { locations } from './locations.js';
import { upstream, type UpstreamPool, type UpstreamTarget } from '../proxy/pool.js';
import { virtualHosts } from './virtual-hosts.js';

/** A stand-in target that records the URL a location sends upstream (routing is what is tested here). */
function target(name: string): UpstreamTarget & { name: string; url?: string } {
  const t: UpstreamTarget & { name: string; url?: string } = {
    name,
    forward: async () => {},
    with: (o) => ({ ...t, url: o.url, with: t.with }) as UpstreamTarget,
  };
  return t;
}

const ws = target('ws');
const bosh = target('bosh');
const web = target('web');
const pade = target('pade');
const exact = target('exact');

const site = locations([
  { prefix: '/colibri-ws/', to: ws },
  { prefix: '/ws/', to: ws },
  { prefix: '/http-bind/', to: bosh },
  { regex: /^\/pade\/(.*)$/, to: pade, rewrite: '/pade/v2/$1' },
  { prefix: '/static/', to: web, noRegex: true },
  { regex: '\\.png$', to: web },
  { exact: '/health', to: exact },
  { prefix: '/', to: web, rewrite: '/ofmeet/' },
]);

async function routed(path: string): Promise<{ name: string; url: string | undefined } | undefined> {
  const result = await inject(defineRoutes({ 'http:request': (req) => site.route(req) }), { url: path, headers: { host: 'meet.example.com' } });
  if (result.kind !== 'proxy') return undefined;
  const t = result.target as ProxyTarget & { name: string; url?: string };
  return { name: t.name, url: t.url };
}

describe('locations', () => {
  it('matches the longest prefix, rewriting "/" to "/ofmeet/" and keeping the query', async () => {
    expect(await routed('/colibri-ws/jvb1/abc')).toEqual({ name: 'ws', url: undefined });
    expect(await routed('/http-bind/?room=1')).toEqual({ name: 'bosh', url: undefined });
    expect(await routed('/room42?x=1')).toEqual({ name: 'web', url: '/ofmeet/room42?x=1' });
    expect(await routed('/')).toEqual({ name: 'web', url: '/ofmeet/' });
  });

  it('tries regexes after prefixes, in order, with captures in the rewrite', async () => {
    expect(await routed('/pade/index.html')).toEqual({ name: 'pade', url: '/pade/v2/index.html' });
    expect(site.match('/img/logo.png')?.location.to).toBe(web);
  });

  it('stops at a noRegex prefix (^~) and prefers an exact match to everything', async () => {
    expect(site.match('/static/x.png')?.location.to).toBe(web);
    expect(site.match('/static/x.png')?.url).toBe('/static/x.png');
    expect(site.match('/health')?.location.to).toBe(exact);
    expect(site.match('/health/x')?.url).toBe('/ofmeet/health/x');
  });

  it('matches percent-decoded paths, as nginx does', () => {
    expect(site.match('/%68ttp-bind/')?.location.to).toBe(bosh);
  });

  it('normalises what it is given, and encodes again what a rewrite takes from the path', () => {
    expect(site.match('//ws/./a/../b')?.url).toBe('/ws/b');
    expect(site.match('/pade/a%3Fb%2Fc%20d')?.url).toBe('/pade/v2/a%3Fb%2Fc%20d');
    expect(site.match('/caf%C3%A9', '?q')?.url).toBe('/ofmeet/caf%C3%A9?q');
    expect(locations([{ prefix: '/caf\u00e9/', to: ws }]).match('/caf%c3%a9/x')?.location.to).toBe(ws);
    expect(locations([{ regex: /^\/u\/(?<user>[^/]+)$/, to: ws, rewrite: '/users/$<user>?from=$1&$$' }]).match('/u/a%23b')?.url).toBe('/users/a%23b?from=a%23b&$');
  });

  it('refuses at creation a prefix or exact path no normalised request can have', () => {
    expect(() => locations([{ prefix: '/a//b/', to: ws }])).toThrow(/locations\(\)\[0\]\.prefix: \/a\/\/b\/ never matches/);
    expect(() => locations([{ exact: '/a/../b', to: ws }])).toThrow(/\.exact: .* never matches/);
  });

  it('falls through with next() when no location matches', async () => {
    const only = locations([{ prefix: '/api/', to: ws }]);
    const result = await inject(defineRoutes({ 'http:request': (req) => only.route(req) }), { url: '/other', headers: { host: 'x' } });
    expect(result).toMatchObject({ kind: 'reply', status: 404 });
  });

  it('refuses bad locations at creation, naming the option', () => {
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e as WsgateError;
      }
      throw new Error('did not throw');
    };
    expect(err(() => locations([{ prefix: 'x', to: ws }])).message).toMatch(/^locations\(\)\[0\]\.prefix: expected a path starting with "\/"/);
    expect(err(() => locations([{ prefix: '/', regex: /x/, to: ws }])).message).toMatch(/exactly one of prefix, exact or regex/);
    expect(err(() => locations([{ regex: /x/g, to: ws }])).message).toMatch(/remove the g and y flags/);
    expect(err(() => locations([{ prefix: '/', to: {} as never }])).code).toBe('WSGATE_CONFIG_INVALID');
    expect(err(() => locations([{ prefix: '/', to: ws, rewite: '/x' } as never])).message).toMatch(/rewite: unknown option/);
  });

  it('takes a real pool as a target', () => {
    const pool = upstream('ws://127.0.0.1:9');
    expect(() => locations([{ prefix: '/', to: pool, rewrite: '/ofmeet/' }])).not.toThrow();
    void pool.close();
  });
});

describe('virtual hosts', () => {
  const a = locations([{ prefix: '/', to: target('a') }]);
  const b = locations([{ prefix: '/', to: target('b') }]);
  const fallback = locations([{ prefix: '/', to: target('default') }]);
  const hosts = virtualHosts([
    { names: ['meet.example.com', 'MEET2.example.com'], routes: a },
    { names: ['*.chat.example.com'], routes: b },
    { names: [], routes: fallback, default: true },
  ]);

  it('chooses the site by Host, without case, port or trailing dot; wildcards; the default otherwise', () => {
    expect(hosts.site('meet.example.com:443')).toBe(a);
    expect(hosts.site('meet2.example.com.')).toBe(a);
    expect(hosts.site('eu.chat.example.com')).toBe(b);
    expect(hosts.site('chat.example.com')).toBe(fallback);
    expect(hosts.site(undefined)).toBe(fallback);
  });

  it('passes the request on when no site matches and there is no default', async () => {
    const only = virtualHosts([{ names: ['meet.example.com'], routes: a }]);
    const result = await inject(defineRoutes({ 'http:request': (req) => only.route(req) }), { url: '/', headers: { host: 'other.example.com' } });
    expect(result).toMatchObject({ kind: 'reply', status: 404 });
  });

  it("chooses by an absolute-form target's host, not the Host header (RFC 9112 §3.2.2)", async () => {
    const routes = defineRoutes({ 'http:request': (req) => hosts.route(req) });
    const result = await inject(routes, { url: 'http://eu.chat.example.com/x', headers: { host: 'meet.example.com' } });
    expect(result.kind === 'proxy' && (result.target as ProxyTarget & { name: string }).name).toBe('b');
  });
});

/**
 * Against a real upstream: a location that refuses `/admin/` cannot be walked round with `//`, dot segments or
 * percent-encoding, and the upstream receives the path that was matched.
 */
describe('locations see and send one normalised path', () => {
  let up: Upstream;
  let pool: UpstreamPool;
  let gw: ProxyGateway;
  const site = () =>
    locations([
      { prefix: '/admin/', to: (req) => req.refuse(403, 'location', 'admin is internal') },
      { prefix: '/old/', to: pool, rewrite: '/new/' },
      { prefix: '/', to: pool },
    ]);
  beforeAll(async () => {
    up = await startUpstream({ name: 'app' });
    pool = upstream(up.url.replace('ws:', 'http:'));
    const router = site();
    gw = await startProxyGateway((req) => router.route(req));
  });
  afterAll(async () => {
    await pool.close();
    await gw.close();
    await up.close();
  });

  /** The status line the client got, and the request line and Host the upstream received (if it did). */
  async function send(target: string): Promise<{ status: string; upstream: string | undefined }> {
    const before = up.requests.length;
    const text = await exchange(gw.port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    const got = up.requests[before];
    return { status: text.slice(0, text.indexOf('\r\n')), upstream: got && `${got.method} ${got.url} Host: ${got.headers.host}` };
  }

  it.each(['//admin/x', '/./admin/x', '/a/../admin/x', '/a/%2e%2E/admin/x', '/%61dmin/x', '/ADMIN/../%61dmin//x'])('refuses %s as /admin/x; the upstream hears nothing', async (target) => {
    expect(await send(target)).toEqual({ status: 'HTTP/1.1 403 Forbidden', upstream: undefined });
  });

  it.each([
    ['/%2fadmin/x', 'GET /%2Fadmin/x Host: 127.0.0.1'],
    ['/admin%2fx', 'GET /admin%2Fx Host: 127.0.0.1'],
    ['/public//a/./b/../c?q=%2F', 'GET /public/a/c?q=%2F Host: 127.0.0.1'],
    ['/%6fld//x/../y%2f.?q', 'GET /new/y%2F.?q Host: 127.0.0.1'],
  ])('an encoded slash stays encoded and is no separator: %s reaches the upstream as %s', async (target, line) => {
    expect(await send(target)).toEqual({ status: 'HTTP/1.1 200 OK', upstream: line });
  });

  it('answers 400 with the reason to invalid percent-encoding', async () => {
    const before = up.requests.length;
    const text = await exchange(gw.port, 'GET /a%zz/x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    expect(text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(text).toMatch(/invalid percent-encoding/);
    expect(up.requests.length).toBe(before);
  });
});
