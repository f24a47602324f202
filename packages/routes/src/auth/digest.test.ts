import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '@wsgate/core';
import { HTDIGEST, attempt, attributesOf, digestAuthorization, digestChallenges, guardRoutes, testGateways, type DigestAnswer, type DigestChallenge, type TestGateway } from '@wsgate/test-kit';
import { digestAuth, readResponse, responseMatches, type DigestAuthOptions, type DigestResponse } from './digest.js';

// ——— the test kit's digest client (RFC 7616 §3.4), with this file's defaults: GET / ———

type Challenge = DigestChallenge;
const challenges = (header: string): Challenge[] => digestChallenges(header);
const authorization = (c: Challenge, a: Omit<DigestAnswer, 'method' | 'uri'> & { method?: string; uri?: string }): string =>
  digestAuthorization(c, { method: 'GET', uri: '/', ...a });

// ——— the module, on real sockets ———

describe('digestAuth()', () => {
  const startGateway = testGateways();

  function htdigestFile(): string {
    const file = join(mkdtempSync(join(tmpdir(), 'wsgate-digest-')), 'htdigest');
    writeFileSync(file, HTDIGEST);
    return file;
  }

  async function start(options: Partial<DigestAuthOptions> = {}): Promise<TestGateway> {
    return startGateway(guardRoutes(digestAuth({ realm: 'media', ...(options.credentials ? {} : { file: htdigestFile() }), ...options })));
  }

  /** Asks for a challenge; returns the one for `algorithm`. */
  async function challenge(gw: TestGateway, algorithm = 'SHA-256', path = '/'): Promise<Challenge> {
    const refused = await attempt(gw.url + path);
    expect(refused.status).toBe(401);
    return challenges(String(refused.headers['www-authenticate'])).find((c) => c.algorithm === algorithm)!;
  }

  const login = (gw: TestGateway, c: Challenge, a: Partial<Answer> = {}, path = '/') =>
    attempt(gw.url + path, { headers: { Authorization: authorization(c, { user: 'dee', password: 'dee-digest', uri: path, ...a }) } });

  it('challenges with SHA-256 then MD5, qop=auth, a shared opaque, and admits a correct answer to either', async () => {
    const gw = await start();
    const refused = await attempt(gw.url);
    const [sha, md5] = challenges(String(refused.headers['www-authenticate']));
    expect(sha).toMatchObject({ realm: 'media', qop: 'auth', algorithm: 'SHA-256' });
    expect(md5).toMatchObject({ realm: 'media', qop: 'auth', algorithm: 'MD5', opaque: sha!.opaque });
    for (const c of [sha!, md5!]) {
      const ok = await login(gw, c, {}, '/sip?room=1');
      expect(ok.status).toBe(101);
      expect(await attributesOf(ok.ws!)).toEqual({ user: 'dee' });
      ok.ws!.close();
    }
  });

  it('refuses a wrong password, an unknown user and the wrong realm with a new challenge, logged as digest', async () => {
    const gw = await start();
    const c = await challenge(gw);
    for (const a of [{ password: 'nope' }, { user: 'mallory' }, { realm: 'other-realm' }]) {
      const refused = await login(gw, c, a);
      expect(refused.status).toBe(401);
      expect(challenges(String(refused.headers['www-authenticate']))).toHaveLength(2);
    }
    expect(gw.logs.filter((l) => l.msg === 'request refused' && l.by === 'digest')).toHaveLength(4);
  });

  it('refuses a replayed or decreasing nonce count, and admits an increasing one', async () => {
    const gw = await start();
    const c = await challenge(gw, 'MD5');
    (await login(gw, c, { nc: 1 })).ws!.close();
    const replay = await login(gw, c, { nc: 1 });
    expect(replay.status).toBe(401);
    expect(replay.body).toBe('nonce count replayed or not increasing\n');
    (await login(gw, c, { nc: 3 })).ws!.close();
    expect((await login(gw, c, { nc: 2 })).status).toBe(401);
  });

  it('answers stale=true, not a second admission, when a full store may have dropped the nonce count of a replay', async () => {
    // Three keys: the nonce counts of three later logins push the first one's out while its nonce is still fresh.
    const store = new MemoryStore({ maxEntries: 3 });
    const gw = await start({ store });
    const first = await challenge(gw, 'MD5');
    const captured = authorization(first, { user: 'dee', password: 'dee-digest', uri: '/', nc: 1 });
    const again = () => attempt(gw.url, { headers: { Authorization: captured } });
    (await again()).ws!.close();
    expect((await again()).body).toBe('nonce count replayed or not increasing\n');
    for (let i = 0; i < 3; i++) (await login(gw, await challenge(gw, 'MD5'))).ws!.close();
    expect(store.forgottenThrough).toBeGreaterThan(-Infinity);
    const replay = await again();
    expect(replay.status).toBe(401);
    expect(replay.body).toBe('nonce count forgotten by a full store: stale nonce\n');
    expect(String(replay.headers['www-authenticate'])).toMatch(/stale=true/);
    // A nonce issued after what the store forgot is as good as ever.
    const fresh = await login(gw, challenges(String(replay.headers['www-authenticate']))[1]!);
    expect(fresh.status).toBe(101);
    fresh.ws!.close();
  });

  it('says stale=true for an expired nonce answered with the right password, and only then', async () => {
    const gw = await start({ nonceTtl: 1 });
    const c = await challenge(gw);
    await new Promise((r) => setTimeout(r, 1100));
    const stale = await login(gw, c);
    expect(stale.status).toBe(401);
    expect(String(stale.headers['www-authenticate'])).toMatch(/stale=true/);
    const wrong = await login(gw, c, { password: 'nope' });
    expect(String(wrong.headers['www-authenticate'])).not.toMatch(/stale/);
    // The client retries with the fresh nonce, as RFC 7616 §3.3 says.
    const retry = await login(gw, challenges(String(stale.headers['www-authenticate']))[0]!);
    expect(retry.status).toBe(101);
    retry.ws!.close();
  });

  it('refuses forged nonces, a wrong opaque, a uri other than the request target, and missing qop', async () => {
    const gw = await start();
    const c = await challenge(gw);
    const forged = { ...c, nonce: c.nonce!.slice(0, -2) + (c.nonce!.endsWith('AA') ? 'BB' : 'AA') };
    expect((await login(gw, forged)).body).toBe('unknown nonce\n');
    expect((await login(gw, { ...c, opaque: 'x' })).body).toBe('wrong opaque\n');
    const otherUri = await attempt(gw.url + '/a', { headers: { Authorization: authorization(c, { user: 'dee', password: 'dee-digest', uri: '/b' }) } });
    expect(otherUri.body).toBe('uri does not match the request target\n');
    const noQop = authorization(c, { user: 'dee', password: 'dee-digest' }).replace(', qop=auth', '');
    expect((await attempt(gw.url, { headers: { Authorization: noQop } })).body).toBe('qop=auth required\n');
    expect((await attempt(gw.url, { headers: { Authorization: 'Digest username="dee", realm=' } })).body).toBe('not Digest credentials\n');
  });

  it('refuses SHA-256 for a user whose file has only an MD5 HA1, and an algorithm not offered', async () => {
    const gw = await start({ algorithms: ['MD5'] });
    const md5 = await challenge(gw, 'MD5');
    expect((await login(gw, { ...md5, algorithm: 'SHA-256' })).body).toBe('algorithm "SHA-256" not offered\n');
    const both = await start();
    expect((await login(both, await challenge(both), { user: 'md5only', password: 'x' })).status).toBe(401);
  });

  it('takes credentials from a callback (password or HA1), and refuses when it throws', async () => {
    const gw = await start({
      credentials: (user) => {
        if (user === 'cal') return { password: 'cal-pw' };
        if (user === 'ha') return { ha1: { MD5: createHash('md5').update('ha:media:ha-pw').digest('hex') } };
        if (user === 'boom') throw new Error('database down');
        return undefined;
      },
    });
    const c = await challenge(gw, 'MD5');
    (await login(gw, c, { user: 'cal', password: 'cal-pw', nc: 1 })).ws!.close();
    (await login(gw, c, { user: 'ha', password: 'ha-pw', nc: 2 })).ws!.close();
    expect((await login(gw, c, { user: 'boom', password: 'x', nc: 3 })).status).toBe(401);
    expect(gw.logs).toContainEqual(expect.objectContaining({ msg: 'digestAuth(): the credentials lookup threw; refusing' }));
  });

  it('verifies nonces without state: another gateway with the same secret and store accepts them, one with another secret does not', async () => {
    const secret = 'a shared secret of at least thirty-two bytes';
    const store = new MemoryStore();
    const a = await start({ secret, store });
    const b = await start({ secret, store });
    const other = await start({ secret: `${secret}!` });
    const c = await challenge(a);
    (await login(b, c, { nc: 1 })).ws!.close();
    expect((await login(a, c, { nc: 1 })).status).toBe(401); // the shared store saw nc 1 already
    const { opaque } = await challenge(other);
    expect((await login(other, { ...c, opaque: opaque! }, { nc: 2 })).body).toBe('unknown nonce\n');
  });

  it('refuses bad options at creation', () => {
    expect(() => digestAuth({ realm: 'media' })).toThrow(/give either file .* or credentials/);
    expect(() => digestAuth({ credentials: () => undefined, algorithms: ['SHA-512' as 'MD5'] })).toThrow(/digestAuth\(\)\.algorithms/);
    expect(() => digestAuth({ credentials: () => undefined, secret: 'short' })).toThrow(/digestAuth\(\)\.secret: expected a secret of at least 32 bytes/);
    expect(() => digestAuth({ file: '/nonexistent' })).toThrow(expect.objectContaining({ code: 'WSGATE_CREDENTIALS_FILE' }));
  });
});

describe('responseMatches()', () => {
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');
  const ha1 = md5('dee:media:dee-digest');
  const params = (response: string) =>
    new Map([
      ['username', 'dee'], ['realm', 'media'], ['nonce', 'n1'], ['uri', '/'], ['response', response],
      ['algorithm', 'md5'], ['qop', 'auth'], ['nc', '00000001'], ['cnonce', 'c1'],
    ]);
  const right = md5(`${ha1}:n1:00000001:c1:auth:${md5('GET:/')}`);
  const read = (response: string) => readResponse(params(response), ['MD5']) as DigestResponse;

  it('admits the right response in either case, the algorithm named in any case', () => {
    expect(read(right).algorithm).toBe('MD5');
    expect(responseMatches(read(right), ha1, 'GET')).toBe(true);
    expect(responseMatches(read(right.toUpperCase()), ha1, 'GET')).toBe(true);
  });

  it('refuses any other response without throwing: another digest, longer, shorter, other characters of the same length', () => {
    expect(responseMatches(read(md5('x')), ha1, 'GET')).toBe(false);
    expect(responseMatches(read(right + '0'), ha1, 'GET')).toBe(false);
    expect(responseMatches(read(right.slice(1)), ha1, 'GET')).toBe(false);
    expect(responseMatches(read('é' + right.slice(1)), ha1, 'GET')).toBe(false);
    expect(responseMatches(read('İ' + right.slice(1)), ha1, 'GET')).toBe(false);
    expect(responseMatches(read(right), ha1, 'POST')).toBe(false);
    expect(responseMatches(read(right), undefined, 'GET')).toBe(false);
  });
});
