/**
 * S1 end to end on real sockets: the example's wsgate.yaml (on free ports) with its script's two route sets (the Kamailio route, then XCAP), and a SIP
 * user agent written here — a raw `ws` client that answers the digest challenge itself (RFC 7616), upgrades
 * with `sip` and sends OPTIONS — plus raw HTTP for the refusals, XCAP and the final 404.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createLogger, Gateway, loadRouteScript, readConfigFile, resolveConfig, type LogFields } from '@wsgate/core';
import { digestAuthorization, digestChallenges, freePort, xcapRequest, type DigestChallenge, type XcapAnswer, type XcapRequest } from '@wsgate/test-kit';

const here = fileURLToPath(new URL('.', import.meta.url));
const logs: LogFields[] = [];
let gateway: Gateway;
let ws: number;
let wss: number;
let other: number;

beforeAll(async () => {
  // The example's config as written, on free ports (the route's port list follows) and its own certificate folder.
  [ws, wss, other] = [await freePort(), await freePort(), await freePort()];
  const file = (await readConfigFile(join(here, 'wsgate.yaml'))) as { listeners: Record<string, unknown>[]; script: { options: Record<string, unknown> } };
  file.listeners = file.listeners.map((l, i) => ({ ...l, port: [ws, wss, other][i] }));
  file.script.options = { ...file.script.options, ports: [ws, wss] };
  const config = resolveConfig({ ...file, dataDir: mkdtempSync(join(tmpdir(), 'wsgate-s1-')), keepalive: { mechanism: 'none' } }, here);
  gateway = new Gateway(config, { logger: createLogger({ level: 'debug', write: (l) => void logs.push(JSON.parse(l)) }) });
  gateway.use(await loadRouteScript(config.script!, gateway));
  await gateway.listen();
});
afterAll(() => gateway?.close({ grace: 0.2 }));

// ——— a SIP user agent's digest client: the test kit's (RFC 7616 §3.4), with a fresh cnonce each time ———

const authorization = (c: DigestChallenge, user: string, password: string, nc = 1, uri = '/', method = 'GET'): string =>
  digestAuthorization(c, { user, password, nc, uri, method, cnonce: randomBytes(12).toString('base64url') });

interface Refused {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Opens a `sip` WebSocket as a SIP UA does; resolves with the socket, or with the HTTP refusal. */
function connect(url: string, headers: Record<string, string> = {}): Promise<{ sock?: WebSocket; refused?: Refused }> {
  const sock = new WebSocket(url, 'sip', { headers, rejectUnauthorized: false });
  return new Promise((resolve, reject) => {
    sock.once('open', () => resolve({ sock }));
    sock.once('unexpected-response', (req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => (req.destroy(), resolve({ refused: { status: res.statusCode!, headers: res.headers, body } })));
    });
    sock.once('error', reject);
  });
}

/** The challenge the gateway answers a first attempt with. */
async function challenge(url: string, algorithm: 'SHA-256' | 'MD5'): Promise<DigestChallenge> {
  const { refused } = await connect(url);
  expect(refused?.status).toBe(401);
  const offered = digestChallenges(String(refused!.headers['www-authenticate']));
  return offered.find((c) => c.algorithm === algorithm)!;
}

const OPTIONS = [
  'OPTIONS sip:example.com SIP/2.0',
  'Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bK776asdhds',
  'Max-Forwards: 70',
  'To: <sip:example.com>',
  'From: <sip:alice@example.com>;tag=1928301774',
  'Call-ID: a84b4c76e66710@df7jal23ls0d.invalid',
  'CSeq: 63104 OPTIONS',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

/** Raw HTTP: what the gateway answers, once it has closed the connection (fails if it keeps it open). */
async function raw(port: number, request: string): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.write(request);
  const timer = setTimeout(() => socket.destroy(new Error(`connection still open after 3 s: ${Buffer.concat(chunks)}`)), 3000);
  await once(socket, 'close');
  clearTimeout(timer);
  return Buffer.concat(chunks).toString();
}

const upgrade = (port: number, host: string, extra = '') =>
  `GET / HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n` +
  `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: sip\r\n${extra}\r\n`;

describe('a SIP user agent', () => {
  it('gets 401 with digest challenges, answers one (RFC 7616), upgrades with sip and has its OPTIONS answered 200 OK', async () => {
    const url = `ws://127.0.0.1:${ws}/`;
    const { refused } = await connect(url);
    expect(refused).toMatchObject({ status: 401, body: 'no credentials\n' });
    const offered = digestChallenges(String(refused!.headers['www-authenticate']));
    expect(offered.map((c) => [c.algorithm, c.realm, c.qop])).toEqual([
      ['SHA-256', 'example.com', 'auth'],
      ['MD5', 'example.com', 'auth'],
    ]);

    const { sock } = await connect(url, { Authorization: authorization(offered[0]!, 'alice', 'alice-secret') });
    expect(sock!.protocol).toBe('sip');
    expect(gateway.connections.list().map((c) => c.get('user'))).toEqual(['alice']);
    sock!.send(OPTIONS);
    const [answer] = await once(sock!, 'message');
    expect(String(answer)).toMatch(/^SIP\/2\.0 200 OK\r\n/);
    expect(String(answer)).toContain('Call-ID: a84b4c76e66710@df7jal23ls0d.invalid\r\n');
    sock!.close(1000);
    await once(sock!, 'close');
    await expect.poll(() => logs.find((l) => l.msg === 'SIP WebSocket closed')).toMatchObject({ user: 'alice', code: 1000, by: 'remote' });
  });

  it('answers the MD5 challenge too (RFC 2617 user agents), over wss on the second port', async () => {
    const url = `wss://127.0.0.1:${wss}/`;
    const c = await challenge(url, 'MD5');
    const { sock } = await connect(url, { Authorization: authorization(c, 'bob', 'bob-secret') });
    expect(sock!.protocol).toBe('sip');
    sock!.close();
  });

  it('gets 401 again with a wrong password', async () => {
    const url = `ws://127.0.0.1:${ws}/`;
    const c = await challenge(url, 'SHA-256');
    const { refused } = await connect(url, { Authorization: authorization(c, 'alice', 'guess') });
    expect(refused).toMatchObject({ status: 401, body: 'invalid user name or password\n' });
    expect(refused!.headers['www-authenticate']).toMatch(/^Digest realm="example.com"/);
  });

  it('is refused when it replays a nonce count, admitted with the next one', async () => {
    const url = `ws://127.0.0.1:${ws}/`;
    const c = await challenge(url, 'SHA-256');
    const first = authorization(c, 'alice', 'alice-secret', 1);
    (await connect(url, { Authorization: first })).sock!.close();
    const { refused } = await connect(url, { Authorization: first });
    expect(refused).toMatchObject({ status: 401, body: 'nonce count replayed or not increasing\n' });
    const { sock } = await connect(url, { Authorization: authorization(c, 'alice', 'alice-secret', 2) });
    expect(sock!.protocol).toBe('sip');
    sock!.close();
  });
});

describe('the refusals before the challenge', () => {
  it('refuses a foreign Origin with 403 and no challenge; lets a listed page (a browser phone) in, to answer SIP digest instead', async () => {
    const url = `ws://127.0.0.1:${ws}/`;
    const { refused } = await connect(url, { Origin: 'https://evil.example.net' });
    expect(refused).toMatchObject({ status: 403, body: 'Origin "https://evil.example.net" not allowed\n' });
    expect(refused!.headers['www-authenticate']).toBeUndefined();
    // a browser cannot answer 401 on the upgrade: the page's WebSocket opens, and its REGISTER is challenged in SIP
    const { sock } = await connect(url, { Origin: 'https://phone.example.com' });
    expect(sock).toBeDefined();
    const register = OPTIONS.replace('OPTIONS sip:example.com', 'REGISTER sip:example.com').replace('CSeq: 63104 OPTIONS', 'CSeq: 1 REGISTER')
      .replace('To: <sip:example.com>', 'To: <sip:alice@example.com>');
    sock!.send(register);
    const [answer] = (await once(sock!, 'message')) as [Buffer];
    expect(answer.toString()).toMatch(/^SIP\/2\.0 401 Unauthorized\r\n[\s\S]*\r\nWWW-Authenticate: Digest realm="example.com", nonce="[^"]+", algorithm=SHA-256, qop="auth"/);
    sock!.close();
  });

  it('refuses a Host that is not the gateway with 403; accepts its configured names', async () => {
    expect(await raw(ws, upgrade(ws, 'evil.example.com'))).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n[\s\S]*\r\n\r\nHost "evil.example.com" is not this gateway\n$/);
    expect(await raw(ws, upgrade(ws, `sip.example.com:${ws}`))).toMatch(/^HTTP\/1\.1 401 Unauthorized\r\n/);
  });

  it('refuses every request on a port it does not serve with 403, before anything else', async () => {
    expect(await raw(other, upgrade(other, `127.0.0.1:${other}`))).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    const xcap = await raw(other, `GET /xcap-root/xcap-caps/global/index HTTP/1.1\r\nHost: 127.0.0.1:${other}\r\n\r\n`);
    expect(xcap).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n[\s\S]*\r\n\r\nport \d+ is not served here\n$/);
    expect(logs).toContainEqual(expect.objectContaining({ msg: 'request refused', by: 'port', status: 403 }));
  });
});

describe('what is not a WebSocket', () => {
  it('falls through to XCAP on the same port, whose answer closes the connection as the Kamailio route asked', async () => {
    const text = await raw(ws, `GET /xcap-root/xcap-caps/global/index HTTP/1.1\r\nHost: 127.0.0.1:${ws}\r\nConnection: keep-alive\r\n\r\n`);
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text).toMatch(/\r\nContent-Type: application\/xcap-caps\+xml\r\n/i);
    expect(text).toMatch(/\r\nETag: "[\w-]+"\r\n/i);
    expect(text).toMatch(/\r\nConnection: close\r\n/i);
    expect(text).toContain('<xcap-caps xmlns="urn:ietf:params:xml:ns:xcap-caps">');
    expect(await raw(ws, `PUT /xcap-root/xcap-caps/global/index HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n`)).toMatch(
      /^HTTP\/1\.1 405 Method Not Allowed\r\n[\s\S]*Allow: GET, HEAD\r\n/,
    );
  });

  it('gets 404 Not found from the end of the pipeline, and the connection is closed', async () => {
    const text = await raw(ws, `GET /index.html HTTP/1.1\r\nHost: 127.0.0.1:${ws}\r\nConnection: keep-alive\r\n\r\n`);
    expect(text).toMatch(/^HTTP\/1\.1 404 Not found\r\n/);
    expect(text).toMatch(/\r\nConnection: close\r\n/i);
  });
});

// ——— XCAP on the same port: a client's first session, as the guide shows it ———

/** An XCAP request as a digest client makes it: refused with the challenges first, then answered with the SHA-256 one. */
async function xcapAs(user: string, password: string, path: string, r: XcapRequest = {}): Promise<XcapAnswer> {
  const first = await xcapRequest(ws, path, r);
  if (first.status !== 401) return first;
  const c = digestChallenges(String(first.headers['www-authenticate'])).find((x) => x.algorithm === 'SHA-256')!;
  const Authorization = authorization(c, user, password, 1, path, r.method ?? 'GET');
  return xcapRequest(ws, path, { ...r, headers: { ...r.headers, Authorization } });
}

describe('XCAP (RFC 4825) after the WebSocket route, with the same digest users', () => {
  const doc = '/xcap-root/resource-lists/users/sip:alice@example.com/index';
  const friends = `${doc}/~~/resource-lists/list%5B@name=%22friends%22%5D`;
  const buddies = readFileSync(join(here, 'buddies.xml'), 'utf8');

  it('a first session: caps, PUT a list, GET one entry, PUT one entry, a stale conditional PUT loses with 412, DELETE', async () => {
    const caps = await xcapRequest(ws, '/xcap-root/xcap-caps/global/index');
    expect(caps.status).toBe(200);
    expect(caps.body).toContain('<auid>resource-lists</auid>');
    expect(caps.headers.connection).toBe('close');

    const created = await xcapAs('alice', 'alice-secret', doc, { method: 'PUT', type: 'application/resource-lists+xml', body: buddies });
    expect(created.status).toBe(201);
    const firstEtag = created.headers.etag as string;
    expect(firstEtag).toBe('"mI56EY6GqM4-WlSGiXJ3Zrk6-qq"'); // the guide's curl commands rely on it

    const bob = await xcapAs('alice', 'alice-secret', `${friends}/entry%5B@uri=%22sip:bob@example.com%22%5D`);
    expect(bob.status).toBe(200);
    expect(bob.headers['content-type']).toBe('application/xcap-el+xml');
    expect(bob.body).toMatch(/^<entry uri="sip:bob@example.com"[^>]*>\s*<display-name>Bob<\/display-name>\s*<\/entry>$/);

    const carol = `${friends}/entry%5B@uri=%22sip:carol@example.com%22%5D`;
    const added = await xcapAs('alice', 'alice-secret', carol, { method: 'PUT', type: 'application/xcap-el+xml', body: '<entry uri="sip:carol@example.com"><display-name>Carol</display-name></entry>' });
    expect(added.status).toBe(201);
    expect(added.headers.etag).not.toBe(firstEtag);

    // a second client still holding the first ETag
    const stale = await xcapAs('alice', 'alice-secret', carol, { method: 'PUT', type: 'application/xcap-el+xml', body: '<entry uri="sip:carol@example.com"/>', headers: { 'If-Match': firstEtag } });
    expect(stale.status).toBe(412);
    expect(stale.headers.etag).toBe(added.headers.etag);

    const removed = await xcapAs('alice', 'alice-secret', carol, { method: 'DELETE' });
    expect(removed.status).toBe(200);
    expect((await xcapAs('alice', 'alice-secret', carol)).status).toBe(404);
  });

  it('challenges a request without credentials, and keeps each user to their own documents (403)', async () => {
    const anonymous = await xcapRequest(ws, doc);
    expect(anonymous.status).toBe(401);
    expect(String(anonymous.headers['www-authenticate'])).toMatch(/^Digest realm="example.com"/);
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const r = await xcapAs('bob', 'bob-secret', doc, { method, ...(method === 'PUT' ? { type: 'application/resource-lists+xml', body: buddies } : {}) });
      expect(r, method).toMatchObject({ status: 403, body: '"bob" may not access the documents of "sip:alice@example.com"\n' });
    }
  });
});

