/** Per-host certificates by SNI: the selector, then a gateway on real TLS, then a reload under an open WebSocket. */
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { freePort, startTestGateway, type TestGateway } from '@wsgate/test-kit';
import { resolveConfig } from '../../config/load.js';
import { WsgateError } from '../../errors.js';
import { defineRoutes } from '../../script/routes.js';
import { createSelfSignedCertificate, type TlsCredentials } from './self-signed.js';
import { createSniTable, SniSelector } from './sni.js';

/** The certificates of the tests, each made for its own name so that its fingerprint tells which one was served. */
const NAMES = { fallback: 'gw.example.com', meet: 'meet.example.com', rooms: '*.rooms.example.com', meetRenewed: 'meet.example.com', added: 'new.example.com' };
type Which = keyof typeof NAMES;
let dir: string;
const pairs = {} as Record<Which, TlsCredentials>;
const fingerprints = new Map<string, Which>();
const certFile = (which: Which) => path.join(dir, `${which}-cert.pem`);
const keyFile = (which: Which) => path.join(dir, `${which}-key.pem`);
const files = (which: Which) => ({ cert: certFile(which), key: keyFile(which) });

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'wsgate-sni-'));
  await Promise.all(
    (Object.keys(NAMES) as Which[]).map(async (which) => {
      const pair = await createSelfSignedCertificate([NAMES[which]]);
      pairs[which] = pair;
      fingerprints.set(new X509Certificate(pair.cert).fingerprint256, which);
      await Promise.all([writeFile(certFile(which), pair.cert), writeFile(keyFile(which), pair.key)]);
    }),
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('SniSelector', () => {
  it('chooses an exact name, else a *.domain entry for one label, else the default (undefined)', () => {
    const table = createSniTable(new Map([['meet.example.com', pairs.meet], ['*.rooms.example.com', pairs.rooms]]));
    const selector = new SniSelector(table);
    const meet = table.exact.get('meet.example.com')!;
    const rooms = table.wildcard.get('rooms.example.com')!;
    expect(meet).toBeDefined();
    expect(rooms).toBeDefined();
    expect(selector.select('meet.example.com')).toBe(meet);
    expect(selector.select('MEET.Example.COM.')).toBe(meet);
    expect(selector.select('a.rooms.example.com')).toBe(rooms);
    expect(selector.select('rooms.example.com')).toBeUndefined();
    expect(selector.select('a.b.rooms.example.com')).toBeUndefined();
    expect(selector.select('other.example.com')).toBeUndefined();
    expect(selector.select('')).toBeUndefined();
  });

  it('serves the replaced table from the next selection on', () => {
    const selector = new SniSelector();
    expect(selector.select('meet.example.com')).toBeUndefined();
    const table = createSniTable(new Map([['meet.example.com', pairs.meet]]));
    selector.replace(table);
    expect(selector.select('meet.example.com')).toBe(table.exact.get('meet.example.com'));
  });
});

/** Which of the test certificates the server presented to a TLS client asking for `servername` (none: no SNI). */
async function presented(port: number, servername?: string): Promise<Which | undefined> {
  const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...(servername === undefined ? {} : { servername }) });
  await once(socket, 'secureConnect');
  const fingerprint = socket.getPeerCertificate().fingerprint256;
  socket.destroy();
  return fingerprints.get(fingerprint);
}

/** Echoes WebSocket messages; a plain request is answered with whether its Host is the gateway's own. */
const routes = defineRoutes({
  'http:request': (req) => (req.isWebSocketUpgrade ? req.handshake() : req.reply(200, 'OK', 'text/plain', String(req.isMyself(req.host ?? '')))),
  'websocket:message': (conn, data) => conn.send(String(data)),
});

const listenerWith = (port: number, sni: Record<string, { cert: string; key: string }>, fallback: Which = 'fallback') => ({
  name: 'wss',
  host: '127.0.0.1',
  port,
  tls: { ...files(fallback), sni },
});

describe('a gateway with per-host certificates', () => {
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  it('presents the certificate of the name the client asks for, the default for any other name or none', async () => {
    gw = await startTestGateway(routes, {
      listeners: [listenerWith(0, { 'meet.example.com': files('meet'), '*.rooms.example.com': files('rooms') })],
    });
    expect(await presented(gw.port, 'meet.example.com')).toBe('meet');
    expect(await presented(gw.port, 'Meet.Example.Com')).toBe('meet');
    expect(await presented(gw.port, 'a.rooms.example.com')).toBe('rooms');
    expect(await presented(gw.port, 'b.rooms.example.com')).toBe('rooms');
    expect(await presented(gw.port, 'rooms.example.com')).toBe('fallback');
    expect(await presented(gw.port, 'x.y.rooms.example.com')).toBe('fallback');
    expect(await presented(gw.port, 'unknown.example.net')).toBe('fallback');
    expect(await presented(gw.port)).toBe('fallback');
  });

  it('counts the SNI names as its own in isMyself()', async () => {
    gw = await startTestGateway(routes, {
      listeners: [listenerWith(0, { 'meet.example.com': files('meet'), '*.rooms.example.com': files('rooms') })],
    });
    const isMyself = (host: string) =>
      new Promise<string>((resolve, reject) => {
        const req = https.get({ host: '127.0.0.1', port: gw!.port, servername: 'meet.example.com', rejectUnauthorized: false, headers: { Host: host } }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c));
          res.on('end', () => resolve(body));
        });
        req.on('error', reject);
      });
    expect(await isMyself('meet.example.com')).toBe('true');
    expect(await isMyself(`a.rooms.example.com:${gw.port}`)).toBe('true');
    expect(await isMyself('a.b.rooms.example.com')).toBe('false');
    expect(await isMyself('evil.example.com')).toBe('false');
  });

  it('reload swaps per-host and default certificates on a kept listener; an open WebSocket on it stays', async () => {
    const port = await freePort();
    gw = await startTestGateway(routes, { listeners: [listenerWith(port, { 'meet.example.com': files('meet') })], keepalive: { mechanism: 'none' } });
    const ws = new WebSocket(`wss://127.0.0.1:${port}/`, { rejectUnauthorized: false, servername: 'meet.example.com' });
    await once(ws, 'open');
    const socket = (ws as unknown as { _socket: tls.TLSSocket })._socket;
    expect(fingerprints.get(socket.getPeerCertificate().fingerprint256)).toBe('meet');

    const next = resolveConfig(
      { listeners: [listenerWith(port, { 'meet.example.com': files('meetRenewed'), 'new.example.com': files('added') }, 'rooms')], keepalive: { mechanism: 'none' } },
      dir,
    );
    await gw.gateway.reload(next, [routes]);
    expect(await presented(port, 'meet.example.com')).toBe('meetRenewed');
    expect(await presented(port, 'new.example.com')).toBe('added');
    expect(await presented(port, 'other.example.com')).toBe('rooms');

    // The WebSocket opened before the reload: same socket, still echoing.
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.send('still here');
    const [echo] = await once(ws, 'message');
    expect(String(echo)).toBe('still here');
    ws.close();
    await once(ws, 'close');
  });

  it('a listener started without per-host certificates runs no SNI callback: a reload adding some is refused, one changing its default is taken', async () => {
    const port = await freePort();
    gw = await startTestGateway(routes, { listeners: [listenerWith(port, {})] });
    const withSni = resolveConfig({ listeners: [listenerWith(port, { 'meet.example.com': files('meet') })] }, dir);
    const error = await gw.gateway.reload(withSni, [routes]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WsgateError);
    expect((error as WsgateError).message).toMatch(/^listeners\[0\]\.tls\.sni: the listener wss was started without per-host certificates, .* restart the gateway/);
    expect(await presented(port, 'meet.example.com')).toBe('fallback');
    await gw.gateway.reload(resolveConfig({ listeners: [listenerWith(port, {}, 'rooms')] }, dir), [routes]);
    expect(await presented(port, 'meet.example.com')).toBe('rooms');
  });

  it('a reload that takes every per-host certificate away serves the default to every name', async () => {
    const port = await freePort();
    gw = await startTestGateway(routes, { listeners: [listenerWith(port, { 'meet.example.com': files('meet') })] });
    await gw.gateway.reload(resolveConfig({ listeners: [listenerWith(port, {})] }, dir), [routes]);
    expect(await presented(port, 'meet.example.com')).toBe('fallback');
  });

  it('a reload with a bad per-host certificate changes nothing and names the entry', async () => {
    const port = await freePort();
    gw = await startTestGateway(routes, { listeners: [listenerWith(port, { 'meet.example.com': files('meet') })] });
    const broken = resolveConfig({ listeners: [listenerWith(port, { 'meet.example.com': { cert: certFile('meetRenewed'), key: keyFile('meet') } }, 'rooms')] }, dir);
    const error = await gw.gateway.reload(broken, [routes]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WsgateError);
    expect((error as WsgateError).message).toMatch(/^listeners\[0\]\.tls\.sni\["meet\.example\.com"\]\.key: .* is not the private key of /);
    expect(await presented(port, 'meet.example.com')).toBe('meet');
    expect(await presented(port, 'other.example.com')).toBe('fallback');
  });
});
