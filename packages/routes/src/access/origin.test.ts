import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defineRoutes, inject } from '@wsgate/core';
import { attempt, guardRoutes, testGateways } from '@wsgate/test-kit';
import { cookieToken } from '../auth/cookie-token.js';
import { directoryTokens } from '../auth/tokens/directory-tokens.js';
import { allOf } from '../kit/guard.js';
import { origin } from './origin.js';
import { compileOriginPattern, parseOrigin } from './origin-pattern.js';

describe('parseOrigin', () => {
  it('normalises case and default ports', () => {
    expect(parseOrigin('HTTPS://App.Example.COM')).toEqual({ scheme: 'https', host: 'app.example.com', port: 443 });
    expect(parseOrigin('http://[::1]:8080')).toEqual({ scheme: 'http', host: '[::1]', port: 8080 });
    expect(parseOrigin('chrome-extension://abc')).toEqual({ scheme: 'chrome-extension', host: 'abc', port: undefined });
  });
  it.each(['null', '', 'example.com', 'https://example.com/', 'https://example.com/path', 'https://user@example.com', 'https://example.com:0', 'https://example.com:70000', 'https://example.com:*', 'https://exa mple.com'])(
    'refuses %j',
    (text) => expect(parseOrigin(text)).toBeUndefined(),
  );
});

describe('compileOriginPattern', () => {
  it('tells exact entries from patterns, and says what is wrong', () => {
    expect(compileOriginPattern('https://example.com:443/')).toEqual({ exact: 'https://example.com:443' });
    expect(compileOriginPattern('https://*.example.com')).toMatchObject({ pattern: { suffix: '.example.com', port: 443 } });
    expect(compileOriginPattern('http://localhost:*')).toMatchObject({ pattern: { host: 'localhost', port: '*' } });
    expect(compileOriginPattern('example.com')).toHaveProperty('problem');
    expect(compileOriginPattern('https://ex*.com')).toHaveProperty('problem');
  });
});

describe('origin()', () => {
  const guard = origin({ allow: ['https://app.example.com', 'https://*.example.org', 'http://localhost:*'] });

  it.each([
    ['https://app.example.com', true],
    ['https://app.example.com:443', true],
    ['https://APP.example.com', true],
    ['http://app.example.com', false], // scheme-aware
    ['https://app.example.com:8443', false], // port-aware
    ['https://evil.app.example.com', false],
    ['https://a.example.org', true],
    ['https://a.b.example.org', true],
    ['https://example.org', false], // *. is a subdomain, not the domain
    ['https://evilexample.org', false],
    ['http://localhost:3000', true],
    ['http://localhost', true],
    ['https://localhost:3000', false],
    ['null', false],
    [undefined, false],
    ['https://app.example.com/', false],
  ])('%s → %s', (value, allowed) => expect(guard.allows(value)).toBe(allowed));

  it('answers the same for values it has seen, also past the most it remembers', () => {
    const seen = origin({ allow: ['https://*.example.org'] });
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 1500; i++) expect(seen.allows(`https://n${i}.example.org`)).toBe(true);
      expect(seen.allows('https://example.org')).toBe(false);
      expect(seen.allows('https://n1.example.org.evil.com')).toBe(false);
    }
  });

  it('applies the explicit policies for a missing and a null Origin', () => {
    const lenient = origin({ allow: ['https://a.example'], missing: 'allow', null: 'allow' });
    expect(lenient.allows(undefined)).toBe(true);
    expect(lenient.allows('null')).toBe(true);
  });

  it('refuses bad options at creation, naming the option', () => {
    expect(() => origin({ allow: [] })).toThrow(/origin\(\)\.allow: give at least one origin/);
    expect(() => origin({ allow: ['app.example.com'] })).toThrow(/origin\(\)\.allow\[0\]: "app.example.com" is not an origin/);
    expect(() => origin({ allow: ['https://a.example'], missing: 'maybe' as 'allow' })).toThrow(/origin\(\)\.missing: expected one of "allow", "refuse"/);
    expect(() => origin({ allow: ['https://a.example'], alow: [] } as never)).toThrow(/origin\(\)\.alow: unknown option/);
  });

  it('refuses with 403 through req.refuse (the log names origin and the reason)', async () => {
    const logs: Record<string, unknown>[] = [];
    const { createLogger } = await import('@wsgate/core');
    const logger = createLogger({ level: 'info', write: (l) => void logs.push(JSON.parse(l)) });
    const result = await inject(guardRoutes(guard), { headers: { origin: 'https://evil.example', host: 'localhost' }, logger, remoteAddress: '198.51.100.7' });
    expect(result).toMatchObject({ kind: 'reply', status: 403, body: 'Origin "https://evil.example" not allowed\n' });
    expect(logs).toContainEqual(expect.objectContaining({ msg: 'request refused', by: 'origin', client: '198.51.100.7:50000' }));
  });
});

describe('cross-site WebSocket hijacking, on real sockets', () => {
  const startGateway = testGateways();

  it('refuses a cookie-authenticated upgrade from a foreign Origin, and admits the same cookie from our own', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsgate-cswsh-'));
    const token = 'valid-token-0123456789abcdef';
    writeFileSync(join(dir, token), '');
    const auth = cookieToken({ store: directoryTokens({ dir }) });
    const seen: (string | undefined)[] = [];
    const spy = defineRoutes({ 'http:request': (req) => void seen.push(req.cookie('AUTH')) });
    const gw = await startGateway([spy, guardRoutes(allOf(origin({ allow: ['https://app.example.com'] }), auth))]);
    const cookie = `AUTH=${token}`;

    const foreign = await attempt(gw.url, { headers: { Cookie: cookie, Origin: 'https://evil.example' } });
    expect(foreign.status).toBe(403);
    expect(seen).toEqual([token]); // the browser did send the valid cookie: only the Origin check stood between
    expect(gw.logs).toContainEqual(expect.objectContaining({ msg: 'request refused', by: 'origin', reason: 'Origin "https://evil.example" not allowed' }));

    const own = await attempt(gw.url, { headers: { Cookie: cookie, Origin: 'https://app.example.com' } });
    expect(own.status).toBe(101);
    own.ws!.close();
  });
});
