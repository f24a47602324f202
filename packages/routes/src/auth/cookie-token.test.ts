import { mkdirSync, mkdtempSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { attempt, attributesOf, guardRoutes, testGateways, until } from '@wsgate/test-kit';
import { cookieToken } from './cookie-token.js';
import { directoryTokens } from './tokens/directory-tokens.js';
import { memoryTokens } from './tokens/memory-tokens.js';
import { signedTokens } from './tokens/signed-tokens.js';

// Every file-system call the directory store makes goes through these spies.
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return { ...real, lstat: vi.fn(real.lstat), unlink: vi.fn(real.unlink) };
});

const TOKEN = 'Zm9vYmFyLXRva2VuLTAxMjM0NTY3';

/** A token directory inside a tree where `../secret` and `../../etc/passwd`-style names do exist. */
function tokenTree(): { dir: string; root: string } {
  const root = mkdtempSync(join(tmpdir(), 'wsgate-tokens-'));
  const dir = join(root, 'var', 'tokens');
  mkdirSync(dir, { recursive: true });
  mkdirSync(join(root, 'etc'));
  writeFileSync(join(root, 'etc', 'passwd'), 'root:x:0:0');
  writeFileSync(join(root, 'var', 'secret'), '');
  writeFileSync(join(dir, TOKEN), '');
  return { dir, root };
}

describe('directoryTokens()', () => {
  beforeEach(() => {
    vi.mocked(fsp.lstat).mockClear();
    vi.mocked(fsp.unlink).mockClear();
  });

  it('accepts a token whose file is in the directory', async () => {
    const store = directoryTokens({ dir: tokenTree().dir });
    expect(await store.verify(TOKEN)).toEqual({ id: expect.stringMatching(/^[\w-]{22}$/) });
    expect(await store.verify('Zm9vYmFyLXRva2VuLTAxMjM0NTY4')).toBeUndefined();
    expect(fsp.lstat).toHaveBeenCalledTimes(2); // the spy sees the store's calls
  });

  it.each([
    '../../etc/passwd',
    '../secret',
    '..%2F..%2Fetc%2Fpasswd',
    '/etc/passwd',
    'abc\0defghijklmnopqrst',
    '................',
    'valid-looking-but/slash',
    'short',
    'x'.repeat(129),
    'spaces are not tokens!',
  ])('refuses %j without touching the file system', async (token) => {
    const store = directoryTokens({ dir: tokenTree().dir });
    expect(await store.verify(token)).toBeUndefined();
    expect(await store.revoke(token)).toBeUndefined();
    expect(fsp.lstat).not.toHaveBeenCalled();
    expect(fsp.unlink).not.toHaveBeenCalled();
  });

  it('ignores a symbolic link and a directory named like a token, and honours ttl by mtime', async () => {
    const { dir, root } = tokenTree();
    symlinkSync(join(root, 'etc', 'passwd'), join(dir, 'linked-token-0123456789'));
    mkdirSync(join(dir, 'a-directory-0123456789'));
    const store = directoryTokens({ dir, ttl: 60, cacheTtl: 0 });
    expect(await store.verify('linked-token-0123456789')).toBeUndefined();
    expect(await store.verify('a-directory-0123456789')).toBeUndefined();
    expect(await store.verify(TOKEN)).toMatchObject({ expiresAt: expect.any(Number) });
    const old = new Date(Date.now() - 120_000);
    utimesSync(join(dir, TOKEN), old, old);
    expect(await store.verify(TOKEN)).toBeUndefined();
  });

  it('remembers a valid token for cacheTtl (no file look-up), never an unknown one, and forgets a revoked one at once', async () => {
    const { dir } = tokenTree();
    const store = directoryTokens({ dir, cacheTtl: 60 });
    await store.verify(TOKEN);
    await store.verify(TOKEN);
    expect(fsp.lstat).toHaveBeenCalledTimes(1);
    const fresh = 'brand-new-token-0123456789';
    expect(await store.verify(fresh)).toBeUndefined();
    writeFileSync(join(dir, fresh), '');
    expect(await store.verify(fresh)).toBeDefined();
    await store.revoke(TOKEN);
    expect(await store.verify(TOKEN)).toBeUndefined();
  });

  it('refuses a directory that does not exist, at creation', () => {
    expect(() => directoryTokens({ dir: '/nonexistent/tokens' })).toThrow(/directoryTokens\(\)\.dir: \/nonexistent\/tokens is not an existing directory/);
  });
});

describe('memoryTokens() and signedTokens()', () => {
  it('issues, verifies, expires and revokes memory tokens', async () => {
    const tokens = memoryTokens({ ttl: 0.2 });
    const token = await tokens.issue({ subject: 'alice' });
    expect(await tokens.verify(token)).toMatchObject({ subject: 'alice' });
    await tokens.add('made-elsewhere-0123456789', { ttl: 100 });
    expect(await tokens.verify('made-elsewhere-0123456789')).toBeDefined();
    await expect(tokens.add('../bad')).rejects.toThrow(/16 to 128 characters/);
    await new Promise((r) => setTimeout(r, 250));
    expect(await tokens.verify(token)).toBeUndefined();
    expect(await tokens.revoke('made-elsewhere-0123456789')).toBeDefined();
    expect(await tokens.verify('made-elsewhere-0123456789')).toBeUndefined();
  });

  it('verifies signed tokens without a store, refusing tampering, expiry, another key and revoked ones', async () => {
    const secret = 'k'.repeat(32);
    const tokens = signedTokens({ secret });
    const token = tokens.sign({ subject: 'bob' });
    expect(await tokens.verify(token)).toMatchObject({ subject: 'bob', id: expect.any(String) });
    const [body, mac] = token.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), sub: 'root' })).toString('base64url');
    expect(await tokens.verify(`${forged}.${mac}`)).toBeUndefined();
    expect(await signedTokens({ secret: 'j'.repeat(32) }).verify(token)).toBeUndefined();
    const short = tokens.sign({ subject: 'x', ttl: 0.05 });
    expect(await tokens.verify(short)).toBeDefined();
    await new Promise((r) => setTimeout(r, 80));
    expect(await tokens.verify(short)).toBeUndefined();
    await tokens.revoke(token);
    expect(await tokens.verify(token)).toBeUndefined();
    expect(() => signedTokens({ secret: 'short' })).toThrow(/at least 32 bytes/);
  });
});

describe('cookieToken() on real sockets', () => {
  const startGateway = testGateways();

  it('admits the AUTH cookie of a token file, refuses a missing, unknown or traversal token with 403', async () => {
    const gw = await startGateway(guardRoutes(cookieToken({ store: directoryTokens({ dir: tokenTree().dir }) })));
    const ok = await attempt(gw.url, { headers: { Cookie: `lang=en; AUTH=${TOKEN}` } });
    expect(ok.status).toBe(101);
    expect(await attributesOf(ok.ws!)).toEqual({ tokenId: expect.any(String) });
    ok.ws!.close();
    for (const [cookie, body] of [
      [undefined, 'no AUTH cookie\n'],
      ['AUTH=', 'no AUTH cookie\n'],
      ['AUTH=unknown-token-0123456789', 'unknown, malformed or expired AUTH token\n'],
      ['AUTH=..%2F..%2Fetc%2Fpasswd', 'unknown, malformed or expired AUTH token\n'],
    ] as const) {
      const refused = await attempt(gw.url, cookie ? { headers: { Cookie: cookie } } : {});
      expect([refused.status, refused.body]).toEqual([403, body]);
    }
    expect(gw.logs.filter((l) => l.msg === 'request refused' && l.by === 'cookie-token')).toHaveLength(4);
  });

  it('revoking a token closes the WebSockets it opened, and only those', async () => {
    const gw = await startGateway([]);
    const tokens = memoryTokens();
    const auth = cookieToken({ store: tokens, cookie: 'SESSION', connections: gw.gateway.connections });
    gw.gateway.use(guardRoutes(auth));
    const [alice, bob] = [await tokens.issue({ subject: 'alice' }), await tokens.issue({ subject: 'bob' })];
    const a1 = (await attempt(gw.url, { headers: { Cookie: `SESSION=${alice}` } })).ws!;
    const a2 = (await attempt(gw.url, { headers: { Cookie: `SESSION=${alice}` } })).ws!;
    const b = (await attempt(gw.url, { headers: { Cookie: `SESSION=${bob}` } })).ws!;
    expect(await attributesOf(a1)).toMatchObject({ user: 'alice' });
    await until(() => gw.gateway.connections.size === 3);
    const closes = [a1, a2].map((ws) => new Promise<[number, string]>((r) => ws.once('close', (code, reason) => r([code, String(reason)]))));
    expect(await auth.revoke(alice, { code: 4001, reason: 'signed out' })).toBe(2);
    expect(await Promise.all(closes)).toEqual([
      [4001, 'signed out'],
      [4001, 'signed out'],
    ]);
    expect(b.readyState).toBe(b.OPEN);
    expect((await attempt(gw.url, { headers: { Cookie: `SESSION=${alice}` } })).status).toBe(403);
    b.close();
  });

  it('refuses bad options at creation', () => {
    expect(() => cookieToken({} as never)).toThrow(/cookieToken\(\)\.store: give a token store/);
    expect(() => cookieToken({ store: memoryTokens(), cookie: 'a b' })).toThrow(/cookieToken\(\)\.cookie/);
  });
});
