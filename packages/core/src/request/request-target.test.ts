/** The request target as routes see it: the path normalised, absolute-form's authority as the host, bad targets 400. */
import { describe, expect, it } from 'vitest';
import { inject } from './inject.js';
import { defineRoutes } from '../script/routes.js';
import { parseRequestTarget, TargetSyntaxError } from './request-target.js';

/** What a route reads of a request (or the reply it got before any route ran). */
async function seen(url: string, headers: Record<string, string> = { Host: 'h' }, method = 'GET') {
  let facts: { path: string; search: string; target: string; host: string | undefined; url: string } | undefined;
  const result = await inject(
    defineRoutes({
      'http:request'(req) {
        facts = { path: req.path, search: req.search, target: req.target, host: req.host, url: req.url };
        return req.reply(204, 'No Content');
      },
    }),
    { url, headers, method },
  );
  return facts ?? { status: result.kind === 'reply' ? result.status : 0, body: result.kind === 'reply' ? result.body : '' };
}

const pathOf = async (url: string) => ((await seen(url)) as { path: string }).path;

describe('req.path is normalised, req.url stays as received', () => {
  it('merges slashes and resolves dot segments, also percent-encoded ones', async () => {
    expect(await pathOf('//admin/x')).toBe('/admin/x');
    expect(await pathOf('/./admin/x')).toBe('/admin/x');
    expect(await pathOf('/a/../admin/x')).toBe('/admin/x');
    expect(await pathOf('/a/%2E%2E/admin/x')).toBe('/admin/x');
    expect(await pathOf('/a/.%2e/admin/x')).toBe('/admin/x');
    expect(await pathOf('/a//b/./c/..')).toBe('/a/b/');
    expect(await seen('//admin/x?q=1')).toMatchObject({ url: '//admin/x?q=1', path: '/admin/x', search: '?q=1', target: '/admin/x?q=1' });
  });

  it('decodes unreserved characters, keeps the rest encoded (upper-case hex), and never makes %2F a separator', async () => {
    expect(await pathOf('/%61dmin/x')).toBe('/admin/x');
    expect(await pathOf('/%7euser/%41-%5a')).toBe('/~user/A-Z');
    expect(await pathOf('/admin%2fx')).toBe('/admin%2Fx');
    expect(await pathOf('/%2fadmin/x')).toBe('/%2Fadmin/x');
    expect(await pathOf('/a%2F..%2Fb')).toBe('/a%2F..%2Fb');
    expect(await pathOf('/caf%c3%a9%20x')).toBe('/caf%C3%A9%20x');
    expect(await pathOf('/a\\b"c{d}')).toBe('/a%5Cb%22c%7Bd%7D');
  });

  it('keeps a plain path and its query as they came', async () => {
    expect(await seen('/ws?room=1&a=%20')).toMatchObject({ path: '/ws', search: '?room=1&a=%20', target: '/ws?room=1&a=%20' });
    expect(await seen('/')).toMatchObject({ path: '/', search: '', target: '/' });
  });
});

describe('absolute-form (RFC 9112 §3.2.2)', () => {
  it("takes the host from the target, not from the Host header, and reads as origin-form", async () => {
    expect(await seen('http://admin.internal/secret', { Host: '127.0.0.1' })).toMatchObject({
      host: 'admin.internal',
      path: '/secret',
      target: '/secret',
      url: 'http://admin.internal/secret',
    });
    expect(await seen('HTTPS://Admin.Internal:8443?x=1', { Host: '127.0.0.1' })).toMatchObject({ host: 'Admin.Internal:8443', path: '/', target: '/?x=1' });
    expect(await seen('ws://[::1]:80//a/../b', { Host: 'h' })).toMatchObject({ host: '[::1]:80', path: '/b' });
  });

  it('still needs a Host header on HTTP/1.1 (RFC 9112 §3.2)', async () => {
    expect(await seen('http://admin.internal/secret', {})).toMatchObject({ status: 400 });
  });
});

describe('a bad request target is answered 400 with the reason, before any route runs', () => {
  it.each([
    ['/a%zzb', /percent-encoding.*character 2/],
    ['/a%2', /percent-encoding/],
    ['/a%00b', /NUL/],
    ['/../admin', /above the root/],
    ['/a/%2e%2e/%2E%2E/admin', /above the root/],
    ['/a#frag', /fragment/],
    ['/a?b#frag', /fragment/],
    ['/a b', /space or control character/],
    ['/caf\u00e9', /outside ASCII/],
    ['http://user@admin.internal/x', /userinfo/],
    ['http:///x', /host/],
    ['ftp://admin.internal/x', /scheme/],
    ['admin.internal:443', /request target is/],
    ['*', /OPTIONS/],
  ])('%s', async (url, reason) => {
    const answer = (await seen(url)) as { status: number; body: string };
    expect(answer.status).toBe(400);
    expect(answer.body).toMatch(reason);
  });

  it('lets OPTIONS * through, as "*"', async () => {
    expect(await seen('*', { Host: 'h' }, 'OPTIONS')).toMatchObject({ path: '*', target: '*' });
  });
});

describe('parseRequestTarget (pure)', () => {
  const problem = (target: string) => {
    try {
      parseRequestTarget(target, 'GET');
    } catch (err) {
      if (err instanceof TargetSyntaxError) return [err.problem, err.position];
      throw err;
    }
    throw new Error(`accepted ${target}`);
  };

  it('says where the target went wrong', () => {
    expect(problem('/ab/c%4g')).toEqual(['invalid percent-encoding: "%" must be followed by two hex digits', 5]);
    expect(problem('/a/../../b')).toEqual(['the path climbs above the root with ".."', 6]);
    expect(problem('http://h/x%zz')).toEqual(['invalid percent-encoding: "%" must be followed by two hex digits', 10]);
    expect(problem('http://h?a#b')).toEqual(['a fragment (#) has no place in a request target', 10]);
    expect(problem('http://h#b')).toEqual(['a fragment (#) has no place in a request target', 8]);
  });

  it('is idempotent: a normalised path normalises to itself', () => {
    for (const target of ['//a/./b/../%63%2f%3f?x', '/%7E/%C3%A9/a%2F..%2Fb/', '/a\\b/.%2E/c.d/']) {
      const once = parseRequestTarget(target, 'GET');
      const twice = parseRequestTarget(once.originForm, 'GET');
      expect(twice).toEqual(once);
    }
  });

  it('hands a plain target back as it is', () => {
    const target = '/colibri-ws/jvb1/abc-1_2~3?room=1';
    expect(parseRequestTarget(target, 'GET')).toEqual({ authority: undefined, path: '/colibri-ws/jvb1/abc-1_2~3', search: '?room=1', originForm: target });
  });
});
