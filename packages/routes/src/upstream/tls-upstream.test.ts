/** TLS to the upstream (wss, https), unix sockets, and connect timeouts, with real TLS and openssl-made certificates. */
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { exchange, makeCertificates, startProxyGateway, startUpstream, upgradeRequest, type Certificates, type Upstream } from '@wsgate/test-kit';
import { upstream } from '../proxy/pool.js';

let certs: Certificates;
let secure: Upstream;
const sniSeen: (string | undefined)[] = [];

beforeAll(async () => {
  certs = makeCertificates(['media.example.test', '127.0.0.1']);
  secure = await startUpstream({ name: 'tls', tls: { cert: certs.cert, key: certs.key } });
  secure.server.on('secureConnection', (s: tls.TLSSocket) => sniSeen.push((s as tls.TLSSocket & { servername?: string | false }).servername || undefined));
});
afterAll(() => secure.close());

function get(port: number, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      })
      .on('error', reject);
  });
}

async function wsRoundTrip(port: number): Promise<string> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
  await once(ws, 'open');
  ws.send('whoami');
  const [data] = await once(ws, 'message');
  ws.close();
  return String(data);
}

describe('TLS to the upstream', () => {
  it('verifies the certificate against a CA file (https and wss)', async () => {
    const pool = upstream(secure.url, { tls: { caFile: certs.caFile } });
    const gw = await startProxyGateway((req) => req.proxy(pool));
    expect(await get(gw.port)).toMatchObject({ status: 200, body: 'tls GET /' });
    expect(await wsRoundTrip(gw.port)).toBe('tls');
    await pool.close();
    await gw.close();
  });

  it('answers 502 naming a TLS failure when the certificate is not trusted', async () => {
    const pool = upstream(secure.url);
    const gw = await startProxyGateway((req) => req.proxy(pool));
    const answer = await get(gw.port);
    expect(answer.status).toBe(502);
    expect(answer.body).toMatch(/^TLS handshake with the upstream failed \(/);
    expect(await exchange(gw.port, upgradeRequest())).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n[\s\S]*TLS handshake with the upstream failed/);
    await pool.close();
    await gw.close();
  });

  it('accepts any certificate with verify: false (proxy_ssl_verify off)', async () => {
    const pool = upstream(secure.url, { tls: { verify: false } });
    const gw = await startProxyGateway((req) => req.proxy(pool));
    expect(await wsRoundTrip(gw.port)).toBe('tls');
    await pool.close();
    await gw.close();
  });

  it('sends SNI and checks the certificate against servername; no SNI for an IP address', async () => {
    sniSeen.length = 0;
    const named = upstream(secure.url, { tls: { caFile: certs.caFile, servername: 'media.example.test' } });
    const gw = await startProxyGateway((req) => req.proxy(named));
    expect((await get(gw.port)).status).toBe(200);
    expect(sniSeen.at(-1)).toBe('media.example.test');
    const byIp = upstream(secure.url, { tls: { caFile: certs.caFile } });
    const gw2 = await startProxyGateway((req) => req.proxy(byIp));
    expect((await get(gw2.port)).status).toBe(200);
    expect(sniSeen.at(-1)).toBeUndefined();
    const wrongName = upstream(secure.url, { tls: { caFile: certs.caFile, servername: 'other.example.test' } });
    const gw3 = await startProxyGateway((req) => req.proxy(wrongName));
    expect(await get(gw3.port)).toMatchObject({ status: 502, body: expect.stringContaining('ERR_TLS_CERT_ALTNAME_INVALID') });
    for (const x of [named, byIp, wrongName]) await x.close();
    for (const g of [gw, gw2, gw3]) await g.close();
  });
});

describe('unix sockets', () => {
  it('relays WebSockets and HTTP to a unix socket upstream', async () => {
    const path = join(tmpdir(), `wsgate-proxy-${process.pid}-${Date.now()}.sock`);
    const local = await startUpstream({ name: 'unix', socketPath: path });
    const pool = upstream(`unix:${path}`);
    const gw = await startProxyGateway((req) => req.proxy(pool));
    expect(await get(gw.port, '/u')).toMatchObject({ status: 200, body: 'unix GET /u' });
    expect(await wsRoundTrip(gw.port)).toBe('unix');
    await pool.close();
    await gw.close();
    await local.close();
  });
});

describe('connect timeout', () => {
  it('answers 504 when the TLS handshake does not complete in time (upgrade and plain)', async () => {
    // Accepts TCP, never speaks TLS.
    const mute = net.createServer((s) => s.on('error', () => {}));
    mute.listen(0, '127.0.0.1');
    await once(mute, 'listening');
    const pool = upstream(`wss://127.0.0.1:${(mute.address() as net.AddressInfo).port}`, { timeouts: { connect: 0.2 } });
    const gw = await startProxyGateway((req) => req.proxy(pool));
    const t0 = Date.now();
    const text = await exchange(gw.port, upgradeRequest());
    expect(text).toMatch(/^HTTP\/1\.1 504 Gateway Timeout\r\n[\s\S]*upstream connect timed out/);
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(await get(gw.port)).toMatchObject({ status: 504, body: 'upstream connect timed out\n' });
    expect(gw.logs.find((l) => l.msg === 'upstream failed')).toMatchObject({ status: 504, err: { code: 'ETIMEDOUT_CONNECT' } });
    await pool.close();
    await gw.close();
    mute.close();
  });
});
