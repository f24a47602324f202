import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { APACHE_HTPASSWD, HASHED_HTPASSWD, attempt, attributesOf, guardRoutes, testGateways } from '@wsgate/test-kit';
import { basicAuth, parseBasicCredentials } from './basic.js';

const basic = (user: string, password: string) => ({ headers: { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` } });

function htpasswdFile(text = APACHE_HTPASSWD): string {
  const file = join(mkdtempSync(join(tmpdir(), 'wsgate-basic-')), 'htpasswd');
  writeFileSync(file, text);
  return file;
}

describe('parseBasicCredentials', () => {
  it('decodes user and password (UTF-8, colons allowed in the password)', () => {
    expect(parseBasicCredentials(`basic ${Buffer.from('zoë:a:b').toString('base64')}`)).toEqual({ user: 'zoë', password: 'a:b' });
  });
  it.each([undefined, 'Bearer abc', 'Basic', 'Basic !!!', `Basic ${Buffer.from('nocolon').toString('base64')}`, `Basic ${Buffer.from(':pw').toString('base64')}`])('refuses %j', (header) => {
    expect(parseBasicCredentials(header)).toHaveProperty('problem');
  });
});

describe('basicAuth() on real sockets', () => {
  const startGateway = testGateways();

  it('admits every hash format htpasswd writes and records the user', async () => {
    const auth = basicAuth({ file: htpasswdFile(), realm: 'media', plain: true });
    const gw = await startGateway(guardRoutes(auth));
    for (const [user, password] of [['bob', 'b0b-bcrypt'], ['amy', 'amy-apr1'], ['sam', 'sam-sha'], ['pat', 'pat-plain']] as const) {
      const ok = await attempt(gw.url, basic(user, password));
      expect(ok.status).toBe(101);
      expect(await attributesOf(ok.ws!)).toEqual({ user });
      ok.ws!.close();
    }
    await auth.close();
  });

  it('answers 401 with the challenge, one reason for unknown users and wrong passwords, logged with the client', async () => {
    const gw = await startGateway(guardRoutes(basicAuth({ file: htpasswdFile(HASHED_HTPASSWD), realm: 'media "east"' })));
    const none = await attempt(gw.url);
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Basic realm="media \\"east\\"", charset="UTF-8"');
    expect(none.body).toBe('no credentials\n');
    const wrong = await attempt(gw.url, basic('bob', 'guess'));
    const unknown = await attempt(gw.url, basic('mallory', 'guess'));
    expect([wrong.status, unknown.status]).toEqual([401, 401]);
    expect(wrong.body).toBe(unknown.body);
    expect(gw.logs.filter((l) => l.msg === 'request refused' && l.by === 'basic' && String(l.client).startsWith('127.0.0.1:'))).toHaveLength(3);
  });

  it('caches a bcrypt success: the second check does not pay for bcrypt again', async () => {
    // Cost 12: about a quarter of a second per verification in bcryptjs.
    const { default: bcrypt } = await import('bcryptjs');
    const file = htpasswdFile(`bob:${bcrypt.hashSync('pw', 12)}\n`);
    const gw = await startGateway(guardRoutes(basicAuth({ file })));
    let t = performance.now();
    (await attempt(gw.url, basic('bob', 'pw'))).ws!.close();
    const first = performance.now() - t;
    t = performance.now();
    for (let i = 0; i < 5; i++) (await attempt(gw.url, basic('bob', 'pw'))).ws!.close();
    const fiveMore = performance.now() - t;
    expect(fiveMore).toBeLessThan(first);
  });

  it('re-reads the file when it is replaced (rename, as editors do) or rewritten, and keeps the old one when the new is bad', async () => {
    const file = htpasswdFile('sam:{SHA}gMxwR5QqjSnLKt6VB4+v6B2CbNk=\n');
    const gw = await startGateway(guardRoutes(basicAuth({ file, checkInterval: 0.05 })));
    const sam = () => attempt(gw.url, basic('sam', 'sam-sha'));
    const amy = () => attempt(gw.url, basic('amy', 'amy-apr1'));
    (await sam()).ws!.close();
    expect((await amy()).status).toBe(401);
    writeFileSync(`${file}.new`, 'amy:$apr1$NzYF/mcl$S/FTLP/JsCBVn.1PVPVP90\n');
    renameSync(`${file}.new`, file);
    await new Promise((r) => setTimeout(r, 100));
    (await amy()).ws!.close();
    expect((await sam()).status).toBe(401);
    writeFileSync(file, 'amy:$apr1$NzYF/mcl$S/FTLP/JsCBVn.1PVPVP90\nbroken line\n');
    await new Promise((r) => setTimeout(r, 100));
    (await amy()).ws!.close();
    expect(gw.logs).toContainEqual(expect.objectContaining({ msg: expect.stringContaining('has bad lines; keeping what was read before'), problems: 'line 2: expected user:hash' }));
  });

  it('fails at creation on a missing file, or one with bad lines (with their numbers)', () => {
    expect(() => basicAuth({ file: '/nonexistent/htpasswd' })).toThrow(expect.objectContaining({ code: 'WSGATE_CREDENTIALS_FILE', message: expect.stringContaining('cannot read /nonexistent/htpasswd (ENOENT)') }));
    expect(() => basicAuth({ file: htpasswdFile('a:{SHA}x\nb\n') })).toThrow(/line 1: user "a": not a recognised hash.*; line 2: expected user:hash/);
    expect(() => basicAuth({ file: htpasswdFile(HASHED_HTPASSWD), realm: 'bad\nrealm' })).toThrow(/basicAuth\(\)\.realm: expected printable ASCII/);
    expect(() => basicAuth({} as never)).toThrow(/basicAuth\(\)\.file: give the htpasswd file/);
  });
});
