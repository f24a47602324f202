/**
 * sipDigest() when its nonce-count store (a real redis-server, killed mid-test) is lost (issue 15.4): closed by
 * default, a SIP 503 with Retry-After that a UA retries (RFC 3261 §21.5.4); open admits the right password
 * without the replay check; one warning per outage; nonce counts checked again once Redis is back.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createLogger, defineRoutes, RedisStore, type LogFields } from '@wsgate/core';
import { digestAuthorization, digestChallenges, killRedises, RedisServer, startTestGateway, until, type TestGateway } from '@wsgate/test-kit';
import { createResponse, parseMessage, readFrame, serialize, sipDigest, type SipAuthenticator, type SipResponse } from '../index.js';

const REALM = 'example.com';
let redis: RedisServer;
let gw: TestGateway | undefined;
let auth: SipAuthenticator | undefined;
let store: RedisStore | undefined;

beforeAll(async () => {
  redis = await RedisServer.start();
});
afterEach(async () => {
  auth?.close();
  await gw?.close();
  await store?.close();
  gw = auth = store = undefined;
  await redis.resume();
});
afterAll(async () => {
  await redis?.close();
  killRedises();
});

function htdigestFile(): string {
  const ha1 = createHash('sha256').update(`alice:${REALM}:alice-secret`).digest('hex');
  const file = join(mkdtempSync(join(tmpdir(), 'wsgate-sip-outage-')), 'htdigest');
  writeFileSync(file, `alice:${REALM}:${ha1}\n`);
  return file;
}

/** A gateway whose SIP requests are authenticated as a proxy would (407) and answered with the verdict. */
async function start(policy?: 'open' | 'closed') {
  const logs: LogFields[] = [];
  store = new RedisStore({ url: redis.url, connectTimeout: 2, commandTimeout: 0.3 });
  await store.connect();
  const logger = createLogger({ level: 'debug', write: (line) => void logs.push(JSON.parse(line)) });
  const a = (auth = sipDigest({ realm: REALM, algorithms: ['SHA-256'], file: htdigestFile(), store, logger, ...(policy ? { onStoreUnavailable: policy } : {}) }));
  gw = await startTestGateway(
    defineRoutes({
      'http:request': (req) => req.handshake({ protocols: ['sip'], requireProtocol: true }),
      async 'websocket:message'(conn, data) {
        const f = readFrame(data);
        if (f.kind !== 'message' || f.message.kind !== 'request') return;
        const verdict = await a.authenticate(conn, f.message, 'proxy');
        const answer = 'user' in verdict ? createResponse(f.message, 200, `authenticated as ${verdict.user}`) : createResponse(f.message, verdict.status, verdict.reason, { headers: [...verdict.headers] });
        conn.send(serialize(answer), { binary: false });
      },
    }),
  );
  const ws = new WebSocket(gw.url, 'sip');
  await once(ws, 'open');
  let cseq = 0;
  const send = async (authorization?: string): Promise<SipResponse> => {
    cseq++;
    const reply = once(ws, 'message');
    ws.send(
      [
        'MESSAGE sip:bob@example.com SIP/2.0',
        `Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bK${cseq}x${Math.random().toString(36).slice(2)}`,
        'Max-Forwards: 70',
        'To: <sip:bob@example.com>',
        'From: <sip:alice@example.com>;tag=from1',
        'Call-ID: outage-call',
        `CSeq: ${cseq} MESSAGE`,
        ...(authorization ? [`Proxy-Authorization: ${authorization}`] : []),
        '',
        '',
      ].join('\r\n'),
    );
    const m = parseMessage(((await reply) as [Buffer])[0]);
    if (m.kind !== 'response') throw new Error('expected a response');
    return m;
  };
  const challenged = await send();
  expect(challenged.status).toBe(407);
  const c = digestChallenges(challenged.headers.getAll('proxy-authenticate'))[0]!;
  let nc = 0;
  /** The next request, answering the first challenge with the next nonce count. */
  const next = () => send(digestAuthorization(c, { user: 'alice', password: 'alice-secret', method: 'MESSAGE', uri: 'sip:bob@example.com', nc: ++nc }));
  /** The next request, answering with a wrong password. */
  const wrong = () => send(digestAuthorization(c, { user: 'alice', password: 'not-alice-secret', method: 'MESSAGE', uri: 'sip:bob@example.com', nc: ++nc }));
  const warned = (text: RegExp) => logs.filter((l) => l.module === 'sip-digest' && text.test(String(l.msg)));
  return { ws, next, wrong, warned };
}

describe('sipDigest() when its nonce-count store is lost', () => {
  it('closed by default: 503 Retry-After while Redis is gone, logged once; 200 again once Redis is back', async () => {
    const { ws, next, wrong, warned } = await start();
    expect((await next()).status).toBe(200);
    await redis.stop();
    for (let i = 0; i < 3; i++) {
      const refused = await next();
      expect([refused.status, refused.reason, refused.headers.get('retry-after')]).toEqual([503, 'authentication store unavailable', '5']);
    }
    // the store is asked only after the password was checked: a wrong one is challenged again, not a 503
    expect((await wrong()).status).toBe(407);
    await redis.resume();
    await until(async () => (await next()).status === 200, 10_000, 'SIP digest admitting again once Redis is back');
    expect(warned(/store unavailable.*refusing with 503/)).toHaveLength(1);
    expect(warned(/store available again/)).toHaveLength(1);
    ws.close();
  });

  it('open: the right password is admitted while Redis is gone; a wrong one is still challenged', async () => {
    const { ws, next, wrong, warned } = await start('open');
    await redis.stop();
    for (let i = 0; i < 2; i++) expect((await next()).status).toBe(200);
    expect((await wrong()).status).toBe(407);
    await redis.resume();
    await until(async () => (await next()).status === 200 && warned(/store available again/).length === 1, 10_000, 'the store answering again');
    expect(warned(/store unavailable.*admitting without them \(onStoreUnavailable: open\)/)).toHaveLength(1);
    ws.close();
  });
});
