/** Location and host routing, nginx's rules, through inject() (no sockets). */
import { describe, expect, it } from 'vitest';
import { defineRoutes, inject, WsgateError, type ProxyTarget } from '@wsgate/core';
import { locations } from './locations.js';
import { upstream, type UpstreamTarget } from '../proxy/pool.js';
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
});
