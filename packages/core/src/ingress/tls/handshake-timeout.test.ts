/**
 * TLS handshakes on a real wss listener: a client that never finishes one is dropped within
 * `limits.tlsHandshakeTimeout`, with no plain-HTTP bytes; garbage instead of a ClientHello is dropped at once.
 */
import { once } from 'node:events';
import { readdirSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { freePort, rawExchange, readUntilClose, sleep, startTestGateway, until, type RawResult, type TestGateway } from '@wsgate/test-kit';
import { resolveConfig } from '../../config/load.js';
import { defineRoutes } from '../../script/routes.js';
import { createSelfSignedCertificate } from './self-signed.js';

const LIMIT_MS = 1000;
/** Timers, accept and close on two shared cores: how late a close may come after the limit. */
const MARGIN_MS = 600;

let dir: string;
let files: { cert: string; key: string };
/** A real ClientHello, as node's TLS client sends it. */
let clientHello: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'wsgate-tls-handshake-'));
  const pair = await createSelfSignedCertificate(['localhost']);
  files = { cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem') };
  await Promise.all([writeFile(files.cert, pair.cert), writeFile(files.key, pair.key)]);
  clientHello = await captureClientHello();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The first flight of a TLS client, read by a plain TCP server. */
async function captureClientHello(): Promise<Buffer> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const first = new Promise<Buffer>((resolve) => server.once('connection', (s) => s.once('data', (d: Buffer) => (resolve(d), s.destroy()))));
  const client = tls.connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, rejectUnauthorized: false });
  client.on('error', () => {});
  const hello = await first;
  client.destroy();
  server.close();
  return hello;
}

const routes = defineRoutes({
  'http:request': (req) => (req.isWebSocketUpgrade ? req.handshake() : req.reply(200, 'OK', 'text/plain', 'hello')),
  'websocket:message': (conn, data) => conn.send(String(data)),
});

const wss = (port: number) => ({ name: 'wss', host: '127.0.0.1', port, tls: files });

/** Sockets this process holds open (both the gateway's and the test clients'). */
function openSockets(): number {
  let count = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:')) count++;
    } catch {
      // closed between the listing and the look
    }
  }
  return count;
}

/** Connects, writes `data`, and waits for the gateway to close; how long that took and what came back. */
async function timedExchange(port: number, data: Buffer | string = Buffer.alloc(0), timeoutMs = 8000): Promise<RawResult & { ms: number }> {
  const started = Date.now();
  const result = await rawExchange(port, data, { timeoutMs, ignoreErrors: true });
  return { ...result, ms: Date.now() - started };
}

async function wssEcho(port: number): Promise<string> {
  const ws = new WebSocket(`wss://127.0.0.1:${port}/`, { rejectUnauthorized: false });
  await once(ws, 'open');
  ws.send('still served');
  const [echo] = await once(ws, 'message');
  ws.close();
  await once(ws, 'close');
  return String(echo);
}

describe('a wss listener bounds the TLS handshake', () => {
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  it('drops a client that sends nothing within tlsHandshakeTimeout, not the header timeout, and writes it nothing', async () => {
    gw = await startTestGateway(routes, { listeners: [wss(0)], limits: { headerTimeout: 30, tlsHandshakeTimeout: LIMIT_MS / 1000 } });
    const silent = await timedExchange(gw.port);
    expect(silent.closed).toBe(true);
    expect(silent.ms).toBeGreaterThanOrEqual(LIMIT_MS - 50);
    expect(silent.ms).toBeLessThan(LIMIT_MS + MARGIN_MS);
    expect(silent.data.length).toBe(0);
  }, 15_000);

  it('drops 300 silent clients at once within the limit; the open sockets return to their count; wss still served', async () => {
    gw = await startTestGateway(routes, { listeners: [wss(0)], limits: { tlsHandshakeTimeout: LIMIT_MS / 1000 } });
    const baseline = openSockets();
    const started = Date.now();
    const clients = await Promise.all(
      Array.from({ length: 300 }, async () => {
        const socket = net.connect({ port: gw!.port, host: '127.0.0.1' });
        await once(socket, 'connect');
        return socket;
      }),
    );
    await until(() => openSockets() >= baseline + 600, 3000, 'the gateway to accept them all'); // both ends of each, in this process
    const results = await Promise.all(clients.map((socket) => readUntilClose(socket, [], { timeoutMs: 8000, ignoreErrors: true }).then((r) => ({ ...r, ms: Date.now() - started }))));
    const slowest = Math.max(...results.map((r) => r.ms));
    expect(results.every((r) => r.closed)).toBe(true);
    expect(results.reduce((n, r) => n + r.data.length, 0)).toBe(0);
    expect(slowest).toBeLessThan(LIMIT_MS + MARGIN_MS);
    await until(() => openSockets() <= baseline, 2000, 'the sockets to close');
    expect(await wssEcho(gw.port)).toBe('still served');
  }, 20_000);

  it('drops a client whose ClientHello stops halfway, or trickles in a byte at a time, at the limit', async () => {
    gw = await startTestGateway(routes, { listeners: [wss(0)], limits: { tlsHandshakeTimeout: LIMIT_MS / 1000 } });
    const half = await timedExchange(gw.port, clientHello.subarray(0, clientHello.length >> 1));
    expect(half.closed).toBe(true);
    expect(half.ms).toBeLessThan(LIMIT_MS + MARGIN_MS);
    expect(half.data.length).toBe(0);

    // Bytes that keep arriving do not extend the handshake's time: the limit is a deadline, not an idle timeout.
    const socket = net.connect({ port: gw.port, host: '127.0.0.1' });
    await once(socket, 'connect');
    const started = Date.now();
    const trickle = (async () => {
      for (let i = 0; i < clientHello.length - 1 && !socket.destroyed; i++) {
        socket.write(clientHello.subarray(i, i + 1));
        await sleep(100);
      }
    })();
    const trickled = await readUntilClose(socket, [], { timeoutMs: 8000, ignoreErrors: true });
    await trickle;
    expect(trickled.closed).toBe(true);
    expect(Date.now() - started).toBeLessThan(LIMIT_MS + MARGIN_MS);
    expect(trickled.data.length).toBe(0);
  }, 20_000);

  it('drops at once a client that sends plain HTTP or garbage instead of a ClientHello: a TLS alert at most, no HTTP in clear', async () => {
    gw = await startTestGateway(routes, { listeners: [wss(0)], limits: { tlsHandshakeTimeout: 5 } });
    for (const garbage of ['GET / HTTP/1.1\r\nHost: localhost\r\n\r\n', Buffer.from('0123456789abcdef'.repeat(8)), Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 0xff, 0xff, 0xff, 0xff, 0xff])]) {
      const answer = await timedExchange(gw.port, garbage);
      expect(answer.closed).toBe(true);
      expect(answer.ms).toBeLessThan(MARGIN_MS);
      expect(answer.text).not.toContain('HTTP/');
      // Nothing, or TLS records of type alert (21) only.
      if (answer.data.length > 0) expect(answer.data[0]).toBe(0x15);
    }
    expect(await wssEcho(gw.port)).toBe('still served');
  }, 15_000);

  it('still answers a malformed request inside an established TLS session with its 400, encrypted', async () => {
    gw = await startTestGateway(routes, { listeners: [wss(0)], limits: { tlsHandshakeTimeout: LIMIT_MS / 1000 } });
    const socket = tls.connect({ host: '127.0.0.1', port: gw.port, rejectUnauthorized: false });
    await once(socket, 'secureConnect');
    const answer = await readUntilClose(socket as net.Socket, ['GET /a b c HTTP/1.1\r\nHost: localhost\r\n\r\n'], { ignoreErrors: true });
    expect(answer.text).toMatch(/^HTTP\/1\.1 400 /);
  });

  it('behind the PROXY protocol, counts from the preface and frees the socket: the front holds none after', async () => {
    gw = await startTestGateway(routes, { listeners: [{ ...wss(0), proxyProtocol: true }], limits: { tlsHandshakeTimeout: LIMIT_MS / 1000 } });
    const baseline = openSockets();
    const silent = await timedExchange(gw.port, 'PROXY TCP4 192.0.2.7 127.0.0.1 40000 443\r\n');
    expect(silent.closed).toBe(true);
    expect(silent.ms).toBeGreaterThanOrEqual(LIMIT_MS - 50);
    expect(silent.ms).toBeLessThan(LIMIT_MS + MARGIN_MS);
    expect(silent.data.length).toBe(0);
    await until(() => openSockets() <= baseline, 2000, 'the sockets to close');
  }, 15_000);

  it('a reload applies a new tlsHandshakeTimeout to the next connections of a kept listener', async () => {
    const port = await freePort();
    gw = await startTestGateway(routes, { listeners: [wss(port)], limits: { tlsHandshakeTimeout: 6 } });
    await gw.gateway.reload(resolveConfig({ listeners: [wss(port)], limits: { tlsHandshakeTimeout: LIMIT_MS / 1000 } }, dir), [routes]);
    const silent = await timedExchange(port);
    expect(silent.closed).toBe(true);
    expect(silent.ms).toBeLessThan(LIMIT_MS + MARGIN_MS);
    expect(await wssEcho(port)).toBe('still served');
  }, 15_000);
});
