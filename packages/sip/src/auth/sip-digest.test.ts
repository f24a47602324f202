import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { defineRoutes, MemoryStore } from '@wsgate/core';
import { cookieToken, memoryTokens } from '@wsgate/routes';
import { digestAuthorization, digestChallenges, startTestGateway, type DigestAnswer, type DigestChallenge, type TestGateway } from '@wsgate/test-kit';
import { createResponse, parseMessage, readFrame, registrar, serialize, sipDigest, type Registrar, type SipAuthenticator, type SipDigestOptions, type SipResponse } from '../index.js';

// ——— the test kit's digest client (RFC 7616 §3.4), with this file's defaults: REGISTER sip:example.com ———

type Challenge = DigestChallenge;
const challengeOf = (value: string): Challenge => digestChallenges(value)[0]!;
const authorization = (c: Challenge, a: Omit<DigestAnswer, 'method' | 'uri'> & { method?: string; uri?: string }): string =>
  digestAuthorization(c, { method: 'REGISTER', uri: 'sip:example.com', cnonce: 'a7f3c9e1', ...a });

// ——— the module, mounted with the registrar on a real gateway, with real WebSocket phones ———

const REALM = 'example.com';
const PASSWORDS: Record<string, string> = { alice: 'alice-secret', bob: 'bob-secret' };

/** An htdigest file as `htdigest` writes it (MD5), with a SHA-256 line for each user too. */
function htdigestFile(): string {
  const lines = Object.entries(PASSWORDS).flatMap(([user, password]) =>
    ['md5', 'sha256'].map((h) => `${user}:${REALM}:${createHash(h).update(`${user}:${REALM}:${password}`).digest('hex')}`),
  );
  const file = join(mkdtempSync(join(tmpdir(), 'wsgate-sip-digest-')), 'htdigest');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

interface Reg {
  cseq: number;
  user?: string;
  ruri?: string;
  method?: string;
  extra?: string[];
}

/** A REGISTER (or, with `method`, an out-of-dialog request from `user`) as JsSIP writes one over WebSocket. */
const request = (r: Reg): string => {
  const method = r.method ?? 'REGISTER';
  const user = r.user ?? 'alice';
  const to = method === 'REGISTER' ? user : 'bob';
  return [
    `${method} ${r.ruri ?? (method === 'REGISTER' ? 'sip:example.com' : 'sip:bob@example.com')} SIP/2.0`,
    `Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bK${r.cseq}x${Math.random().toString(36).slice(2)}`,
    'Max-Forwards: 70',
    `To: <sip:${to}@example.com>`,
    `From: <sip:${user}@example.com>;tag=from1`,
    `Call-ID: call-${user}`,
    `CSeq: ${r.cseq} ${method}`,
    ...(method === 'REGISTER' ? [`Contact: <sip:${user}1@df7jal23ls0d.invalid;transport=ws;ob>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-00000000000${r.cseq % 10}>";reg-id=1`, 'Expires: 600'] : []),
    ...(r.extra ?? []),
    '',
    '',
  ].join('\r\n');
};

let gw: TestGateway | undefined;
let reg: Registrar | undefined;
let auth: SipAuthenticator | undefined;
afterEach(async () => {
  reg?.close();
  auth?.close();
  await gw?.close();
  gw = reg = auth = undefined;
});

const tokens = memoryTokens();

/**
 * A registrar with sipDigest; other requests are authenticated as a proxy would ('proxy') and answered with
 * the verdict. A WebSocket upgrade with a cookie must carry a valid token (the connection's identity).
 */
async function start(options: Partial<SipDigestOptions> = {}) {
  auth = sipDigest({ realm: REALM, file: htdigestFile(), ...options });
  const a = auth;
  reg = registrar({ domains: ['example.com'], auth: a });
  const r = reg;
  const cookies = cookieToken({ store: tokens });
  gw = await startTestGateway(
    defineRoutes({
      async 'http:request'(req) {
        if (req.header('cookie') !== undefined && !(await cookies.check(req))) return;
        return req.handshake({ protocols: ['sip'], requireProtocol: true });
      },
      async 'websocket:message'(conn, data) {
        const f = readFrame(data);
        if (f.kind !== 'message' || f.message.kind !== 'request') return;
        if (f.message.method === 'REGISTER') return r.routes['websocket:message'](conn, data);
        const verdict = await a.authenticate(conn, f.message, 'proxy');
        const answer = 'user' in verdict ? createResponse(f.message, 200, `authenticated as ${verdict.user}`) : createResponse(f.message, verdict.status, verdict.reason, { headers: [...verdict.headers] });
        conn.send(serialize(answer), { binary: false });
      },
      'websocket:closed': (conn) => r.routes['websocket:closed'](conn),
    }),
  );
  return r;
}

async function phone(as?: string) {
  const headers = as === undefined ? {} : { Cookie: `AUTH=${await tokens.issue({ subject: as })}` };
  const ws = new WebSocket(gw!.url, 'sip', { headers });
  await once(ws, 'open');
  const send = async (text: string): Promise<SipResponse> => {
    const reply = once(ws, 'message');
    ws.send(text);
    const [data] = (await reply) as [Buffer];
    const m = parseMessage(data);
    if (m.kind !== 'response') throw new Error('expected a response');
    return m;
  };
  return { ws, send };
}

type Phone = Awaited<ReturnType<typeof phone>>;

const challenges = (m: SipResponse, header = 'www-authenticate') => m.headers.getAll(header).map(challengeOf);
const sha256Of = (m: SipResponse, header?: string) => challenges(m, header).find((c) => c.algorithm === 'SHA-256')!;

/** Sends a REGISTER without credentials and answers the challenge for `algorithm`. */
async function login(p: Phone, cseq: number, a: Partial<Answer> & { algorithm?: string } = {}) {
  const refused = await p.send(request({ cseq, user: a.user }));
  expect(refused.status).toBe(401);
  const c = challenges(refused).find((x) => x.algorithm === (a.algorithm ?? 'SHA-256'))!;
  const user = a.user ?? 'alice';
  const answer = await p.send(request({ cseq: cseq + 1, user, extra: [`Authorization: ${authorization(c, { user, password: PASSWORDS[user]!, ...a })}`] }));
  return { challenge: c, answer };
}

describe('sipDigest() with the registrar over a real WebSocket', () => {
  it('challenges a REGISTER with SHA-256 then MD5, qop="auth", and registers an answer to either', async () => {
    const r = await start();
    const p = await phone();
    const refused = await p.send(request({ cseq: 1 }));
    expect([refused.status, refused.reason]).toEqual([401, 'Unauthorized']);
    const [sha, md5] = challenges(refused);
    expect(sha).toMatchObject({ realm: REALM, qop: 'auth', algorithm: 'SHA-256' });
    expect(md5).toMatchObject({ realm: REALM, qop: 'auth', algorithm: 'MD5', opaque: sha!.opaque });
    expect(refused.headers.getAll('www-authenticate')).toHaveLength(2);

    const ok = await p.send(request({ cseq: 2, extra: [`Authorization: ${authorization(sha!, { user: 'alice', password: 'alice-secret' })}`] }));
    expect([ok.status, ok.reason]).toEqual([200, 'OK']);
    expect(await r.lookup('sip:alice@example.com')).toHaveLength(1);

    const { answer } = await login(p, 3, { algorithm: 'MD5' });
    expect(answer.status).toBe(200);
    expect(await r.lookup('sip:alice@example.com')).toHaveLength(2);
    p.ws.close();
  });

  it('challenges again a wrong password or an unknown user (401, never 200)', async () => {
    const r = await start();
    const p = await phone();
    const wrong = await login(p, 1, { password: 'not-alice-secret' });
    expect([wrong.answer.status, wrong.answer.reason]).toEqual([401, 'invalid user name or password']);
    expect(challenges(wrong.answer)).toHaveLength(2);
    const refused = await p.send(request({ cseq: 3, user: 'mallory' }));
    const mallory = await p.send(request({ cseq: 4, user: 'mallory', extra: [`Authorization: ${authorization(sha256Of(refused), { user: 'mallory', password: 'x' })}`] }));
    expect(mallory.status).toBe(401);
    expect(await r.lookup('sip:alice@example.com')).toEqual([]);
    p.ws.close();
  });

  it('refuses a replayed nonce count, and takes an increasing one', async () => {
    await start();
    const p = await phone();
    const { challenge, answer } = await login(p, 1);
    expect(answer.status).toBe(200);
    const again = (cseq: number, nc: number) =>
      p.send(request({ cseq, extra: [`Authorization: ${authorization(challenge, { user: 'alice', password: 'alice-secret', nc })}`] }));
    const replay = await again(3, 1);
    expect([replay.status, replay.reason]).toEqual([401, 'nonce count replayed or not increasing']);
    expect((await again(4, 2)).status).toBe(200);
    expect((await again(5, 2)).status).toBe(401);
    p.ws.close();
  });

  it('answers stale=true, not a second 200, when a full store may have dropped the nonce count of a replay', async () => {
    // Three keys: the nonce counts of three later REGISTERs push the first one's out while its nonce is still fresh.
    const store = new MemoryStore({ maxEntries: 3 });
    await start({ store });
    const p = await phone();
    const { challenge, answer } = await login(p, 1);
    expect(answer.status).toBe(200);
    const replay = (cseq: number) => p.send(request({ cseq, extra: [`Authorization: ${authorization(challenge, { user: 'alice', password: 'alice-secret', nc: 1 })}`] }));
    expect((await replay(3)).reason).toBe('nonce count replayed or not increasing');
    for (let cseq = 4; cseq < 10; cseq += 2) expect((await login(p, cseq)).answer.status).toBe(200);
    expect(store.forgottenThrough).toBeGreaterThan(-Infinity);
    const forgotten = await replay(10);
    expect([forgotten.status, forgotten.reason]).toEqual([401, 'nonce count forgotten by a full store: stale nonce']);
    expect(challenges(forgotten).map((x) => x.stale)).toEqual(['true', 'true']);
    // A nonce issued after what the store forgot is as good as ever.
    const retry = await p.send(request({ cseq: 11, extra: [`Authorization: ${authorization(sha256Of(forgotten), { user: 'alice', password: 'alice-secret' })}`] }));
    expect([retry.status, retry.reason]).toEqual([200, 'OK']);
    p.ws.close();
  });

  it('takes the answer to a challenge it no longer remembers (1,030 challenges later) by the nonce\'s MAC, and refuses a forged one', async () => {
    await start();
    const p = await phone();
    const first = sha256Of(await p.send(request({ cseq: 1 })));
    // more challenges than the authenticator keeps in mind (1,024): the first nonce is checked by its MAC again
    for (let cseq = 2; cseq <= 1031; cseq++) expect((await p.send(request({ cseq }))).status).toBe(401);
    const forged = { ...first, nonce: `${first.nonce.slice(0, -1)}${first.nonce.endsWith('A') ? 'B' : 'A'}` };
    const refused = await p.send(request({ cseq: 1032, extra: [`Authorization: ${authorization(forged, { user: 'alice', password: 'alice-secret' })}`] }));
    expect([refused.status, refused.reason]).toEqual([401, 'unknown nonce']);
    const ok = await p.send(request({ cseq: 1033, extra: [`Authorization: ${authorization(first, { user: 'alice', password: 'alice-secret' })}`] }));
    expect([ok.status, ok.reason]).toEqual([200, 'OK']);
    p.ws.close();
  });

  it('says stale=true for an expired nonce answered with the right password, and only then', async () => {
    await start({ nonceTtl: 1 });
    const p = await phone();
    const refused = await p.send(request({ cseq: 1 }));
    const c = sha256Of(refused);
    await new Promise((done) => setTimeout(done, 1100));
    const stale = await p.send(request({ cseq: 2, extra: [`Authorization: ${authorization(c, { user: 'alice', password: 'alice-secret' })}`] }));
    expect([stale.status, stale.reason]).toEqual([401, 'stale nonce']);
    expect(challenges(stale).map((x) => x.stale)).toEqual(['true', 'true']);
    const wrong = await p.send(request({ cseq: 3, extra: [`Authorization: ${authorization(c, { user: 'alice', password: 'nope' })}`] }));
    expect(wrong.headers.get('www-authenticate')).not.toMatch(/stale/);
    const retry = await p.send(request({ cseq: 4, extra: [`Authorization: ${authorization(sha256Of(stale), { user: 'alice', password: 'alice-secret' })}`] }));
    expect(retry.status).toBe(200);
    p.ws.close();
  });

  it('refuses (403) a REGISTER of bob with alice\'s credentials, and a digest uri other than the Request-URI (400)', async () => {
    const r = await start();
    const p = await phone();
    const refused = await p.send(request({ cseq: 1, user: 'bob' }));
    const asBob = await p.send(request({ cseq: 2, user: 'bob', extra: [`Authorization: ${authorization(sha256Of(refused), { user: 'alice', password: 'alice-secret' })}`] }));
    expect([asBob.status, asBob.reason]).toEqual([403, 'authenticated as alice cannot act as bob']);
    const otherUri = await p.send(request({ cseq: 3, extra: [`Authorization: ${authorization(sha256Of(refused), { user: 'alice', password: 'alice-secret', uri: 'sip:other.example.com' })}`] }));
    expect([otherUri.status, otherUri.reason]).toEqual([400, 'digest uri sip:other.example.com is not the Request-URI sip:example.com']);
    expect(await r.lookup('sip:bob@example.com')).toEqual([]);
    p.ws.close();
  });

  it('binds the WebSocket\'s identity (cookie token) to the SIP identity: alice\'s connection cannot register bob', async () => {
    const r = await start();
    const p = await phone('alice');
    const refused = await p.send(request({ cseq: 1, user: 'bob' }));
    expect([refused.status, refused.reason]).toEqual([403, 'connection authenticated as alice cannot act as bob']);
    // even with bob's own password
    const withBobs = await p.send(request({ cseq: 2, user: 'bob', extra: [`Authorization: ${authorization(sha256Of(await (await phone()).send(request({ cseq: 1, user: 'bob' }))), { user: 'bob', password: 'bob-secret' })}`] }));
    expect(withBobs.status).toBe(403);
    // without trustConnection alice still answers a challenge on her own connection
    const { answer } = await login(p, 3);
    expect(answer.status).toBe(200);
    expect(await r.lookup('sip:bob@example.com')).toEqual([]);
    p.ws.close();
  });

  it('trustConnection: a connection that logged in as alice registers alice without a challenge, and nobody else', async () => {
    const r = await start({ trustConnection: true });
    const alice = await phone('alice');
    const ok = await alice.send(request({ cseq: 1 }));
    expect([ok.status, ok.headers.get('www-authenticate')]).toEqual([200, undefined]);
    expect(await r.lookup('sip:alice@example.com')).toHaveLength(1);
    expect((await alice.send(request({ cseq: 2, user: 'bob' }))).status).toBe(403);
    const anonymous = await phone();
    expect((await anonymous.send(request({ cseq: 1 }))).status).toBe(401);
    alice.ws.close();
    anonymous.ws.close();
  });

  it('answers malformed credentials with 400 and the reason', async () => {
    await start();
    const p = await phone();
    const c = sha256Of(await p.send(request({ cseq: 1 })));
    const good = authorization(c, { user: 'alice', password: 'alice-secret' });
    const cases: Array<[string, string]> = [
      ['Digest username="alice", realm=', 'malformed Authorization header'],
      [good.replace(/nc=0+1/, 'nc=1'), 'malformed nonce count'],
      [good.replace(', qop=auth', ''), 'qop=auth required'],
      [good.replace('algorithm=SHA-256', 'algorithm=SHA-512'), "algorithm 'SHA-512' not offered"],
      [good.replace(/, cnonce="[^"]*"/, ''), 'incomplete Digest credentials'],
    ];
    let cseq = 2;
    for (const [value, reason] of cases) {
      const bad = await p.send(request({ cseq: cseq++, extra: [`Authorization: ${value}`] }));
      expect([bad.status, bad.reason]).toEqual([400, reason]);
    }
    // credentials for another realm only (a proxy further on): challenged, not refused
    const other = await p.send(request({ cseq: cseq++, extra: [`Authorization: ${good.replace(`realm="${REALM}"`, 'realm="elsewhere"')}`] }));
    expect([other.status, other.reason]).toEqual([401, 'no credentials for realm example.com']);
    p.ws.close();
  });

  it("'proxy' mode: 407 with Proxy-Authenticate, and Proxy-Authorization for the From user", async () => {
    await start();
    const p = await phone();
    const message = (cseq: number, extra: string[] = [], user = 'alice') => request({ cseq, user, method: 'MESSAGE', extra });
    const refused = await p.send(message(1));
    expect([refused.status, refused.reason, refused.headers.get('www-authenticate')]).toEqual([407, 'Proxy Authentication Required', undefined]);
    const c = sha256Of(refused, 'proxy-authenticate');
    expect(c).toMatchObject({ realm: REALM, qop: 'auth' });
    const answer = (nc: number) => authorization(c, { user: 'alice', password: 'alice-secret', method: 'MESSAGE', uri: 'sip:bob@example.com', nc });
    // Authorization is for the registrar, not for a proxy: still 407
    expect((await p.send(message(2, [`Authorization: ${answer(1)}`]))).status).toBe(407);
    const ok = await p.send(message(3, [`Proxy-Authorization: ${answer(1)}`]));
    expect([ok.status, ok.reason]).toEqual([200, 'authenticated as alice']);
    const spoofed = await p.send(message(4, [`Proxy-Authorization: ${answer(2)}`], 'bob'));
    expect([spoofed.status, spoofed.reason]).toEqual([403, 'authenticated as alice cannot act as bob']);
    p.ws.close();
  });

  it('keeps nonce counts in the Store it is given: a second gateway with the same secret and store refuses a replay', async () => {
    const secret = 'a shared secret of at least thirty-two bytes';
    const store = new MemoryStore();
    await start({ secret, store });
    const first = gw!;
    const p = await phone();
    const { challenge, answer } = await login(p, 1);
    expect(answer.status).toBe(200);
    gw = undefined;
    const firstAuth = auth;
    const firstReg = reg;
    await start({ secret, store });
    const q = await phone();
    const replay = await q.send(request({ cseq: 9, extra: [`Authorization: ${authorization(challenge, { user: 'alice', password: 'alice-secret' })}`] }));
    expect([replay.status, replay.reason]).toEqual([401, 'nonce count replayed or not increasing']);
    const next = await q.send(request({ cseq: 10, extra: [`Authorization: ${authorization(challenge, { user: 'alice', password: 'alice-secret', nc: 2 })}`] }));
    expect(next.status).toBe(200);
    p.ws.close();
    q.ws.close();
    firstReg?.close();
    firstAuth?.close();
    await first.close();
  });

  it('refuses bad options at creation, naming the option', () => {
    expect(() => sipDigest({ realm: REALM })).toThrow(/sipDigest\(\): give either file .* or credentials/);
    expect(() => sipDigest({ realm: REALM, file: htdigestFile(), trustConnection: 'yes' as unknown as boolean })).toThrow(/sipDigest\(\)\.trustConnection: expected true or false/);
    expect(() => sipDigest({ realm: REALM, file: htdigestFile(), connectionIdentity: 'user' as never })).toThrow(/sipDigest\(\)\.connectionIdentity: expected a function/);
    expect(() => sipDigest({ realm: REALM, file: htdigestFile(), nonceTTL: 5 } as never)).toThrow(/sipDigest\(\)\.nonceTTL: unknown option/);
    expect(() => sipDigest({ realm: REALM, file: '/nonexistent' })).toThrow(expect.objectContaining({ code: 'WSGATE_CREDENTIALS_FILE' }));
  });
});
