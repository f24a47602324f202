import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import tls from 'node:tls';
import { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { rawExchange, startTestGateway, until, upgradeRequest, type TestGateway } from '@wsgate/test-kit';
import { PROXY_V2_SIGNATURE, formatIPv6, parseProxyPreface } from './proxy-protocol.js';
import { defineRoutes } from '../script/routes.js';

/** A v2 preface: command (0 LOCAL, 1 PROXY), family byte, address block, optional TLV bytes. */
function v2(command: number, family: number, addresses: Buffer, tlvs = Buffer.alloc(0)): Buffer {
  const head = Buffer.from([0x20 | command, family, 0, 0]);
  head.writeUInt16BE(addresses.length + tlvs.length, 2);
  return Buffer.concat([PROXY_V2_SIGNATURE, head, addresses, tlvs]);
}

function v4Block(src: string, dst: string, sport: number, dport: number): Buffer {
  const b = Buffer.alloc(12);
  src.split('.').forEach((o, i) => (b[i] = Number(o)));
  dst.split('.').forEach((o, i) => (b[4 + i] = Number(o)));
  b.writeUInt16BE(sport, 8);
  b.writeUInt16BE(dport, 10);
  return b;
}

describe('parseProxyPreface, v1', () => {
  it('reads TCP4 and TCP6 lines and says where the preface ends', () => {
    const line = 'PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\n';
    expect(parseProxyPreface(Buffer.from(`${line}GET /`))).toEqual({
      status: 'done',
      version: 1,
      length: line.length,
      source: { ip: '192.0.2.7', port: 56324 },
    });
    expect(parseProxyPreface(Buffer.from('PROXY TCP6 2001:db8::7 2001:db8::1 4000 443\r\n'))).toMatchObject({
      source: { ip: '2001:db8::7', port: 4000 },
    });
  });

  it('keeps the socket address for UNKNOWN', () => {
    const result = parseProxyPreface(Buffer.from('PROXY UNKNOWN ffff:f...f:ffff 65535 65535\r\n'));
    expect(result).toEqual({ status: 'done', version: 1, length: 43 });
  });

  it('asks for more while the line may still come, at every cut', () => {
    const line = Buffer.from('PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\n');
    for (let n = 0; n < line.length; n++) expect(parseProxyPreface(line.subarray(0, n)).status).toBe('incomplete');
  });

  it.each([
    ['GET / HTTP/1.1\r\n', 'not a PROXY protocol preface'],
    ['PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n', 'unknown protocol'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n', 'expected'],
    ['PROXY TCP4 2001:db8::1 5.6.7.8 1 2\r\n', 'not IPv4'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n', 'port'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n', 'port'],
    ['PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n', 'expected'],
    [`PROXY TCP4 ${'1'.repeat(120)}`, 'longer than 107'],
  ])('refuses %j', (text, reason) => {
    const result = parseProxyPreface(Buffer.from(text));
    expect(result.status).toBe('invalid');
    expect(result.status === 'invalid' && result.reason).toContain(reason);
  });
});

describe('parseProxyPreface, v2', () => {
  it('reads PROXY over TCP/IPv4 and skips TLVs', () => {
    const tlv = Buffer.from([0x04, 0x00, 0x03, 1, 2, 3]); // PP2_TYPE_NOOP
    const data = Buffer.concat([v2(1, 0x11, v4Block('203.0.113.9', '10.0.0.1', 40000, 443), tlv), Buffer.from('GET')]);
    expect(parseProxyPreface(data)).toEqual({ status: 'done', version: 2, length: 16 + 12 + 6, source: { ip: '203.0.113.9', port: 40000 } });
  });

  it('reads PROXY over TCP/IPv6', () => {
    const block = Buffer.alloc(36);
    Buffer.from('20010db8000000000000000000000007', 'hex').copy(block, 0);
    block.writeUInt16BE(5060, 32);
    expect(parseProxyPreface(v2(1, 0x21, block))).toMatchObject({ source: { ip: '2001:db8::7', port: 5060 } });
  });

  it('keeps the socket address for LOCAL, UNSPEC and UNIX', () => {
    expect(parseProxyPreface(v2(0, 0x00, Buffer.alloc(0)))).toEqual({ status: 'done', version: 2, length: 16 });
    expect(parseProxyPreface(v2(1, 0x00, Buffer.alloc(0)))).toEqual({ status: 'done', version: 2, length: 16 });
    expect(parseProxyPreface(v2(1, 0x31, Buffer.alloc(216)))).toEqual({ status: 'done', version: 2, length: 232 });
  });

  it('asks for more until the announced length has arrived', () => {
    const data = v2(1, 0x11, v4Block('1.2.3.4', '5.6.7.8', 1, 2));
    for (let n = 0; n < data.length; n++) expect(parseProxyPreface(data.subarray(0, n)).status).toBe('incomplete');
    expect(parseProxyPreface(data).status).toBe('done');
  });

  it.each([
    ['version 1', Buffer.concat([PROXY_V2_SIGNATURE, Buffer.from([0x11, 0x11, 0, 0])]), 'unsupported version'],
    ['command 2', v2(2, 0x11, Buffer.alloc(12)), 'unknown command'],
    ['a short IPv4 block', v2(1, 0x11, Buffer.alloc(8)), 'shorter than 12'],
    ['a short IPv6 block', v2(1, 0x21, Buffer.alloc(20)), 'shorter than 36'],
    ['family 4', v2(1, 0x41, Buffer.alloc(12)), 'unknown address family'],
    ['transport 3', v2(1, 0x13, Buffer.alloc(12)), 'unknown transport'],
  ])('refuses %s', (_what, data, reason) => {
    const result = parseProxyPreface(data);
    expect(result.status === 'invalid' && result.reason).toContain(reason);
  });
});

describe('formatIPv6', () => {
  it.each([
    ['00000000000000000000000000000001', '::1'],
    ['00000000000000000000000000000000', '::'],
    ['20010db8000000010000000000000001', '2001:db8:0:1::1'],
    ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
    ['fe800000000000000000000000000000', 'fe80::'],
    ['20010db8000100020003000400050006', '2001:db8:1:2:3:4:5:6'],
  ])('%s → %s', (hex, text) => expect(formatIPv6(Buffer.from(hex, 'hex'))).toBe(text));
});

describe('a listener with proxyProtocol: true, on real sockets', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'wsgate-proxy-protocol-'));
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  const whoami = defineRoutes({
    'http:request'(req) {
      if (req.isWebSocketUpgrade) return req.handshake();
      return req.reply(200, 'OK', 'text/plain', `${req.clientIp} ${req.clientPort} ${req.remoteAddress}`);
    },
  });

  async function start(tls = false, limits: Record<string, unknown> = {}): Promise<TestGateway> {
    gw = await startTestGateway(whoami, {
      listeners: [{ host: '127.0.0.1', port: 0, proxyProtocol: true, ...(tls ? { tls: {} } : {}) }],
      dataDir,
      limits,
    });
    return gw;
  }

  it('takes the client from a v1 preface, for every request on the connection', async () => {
    const { port } = await start();
    const get = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n';
    const { text } = await rawExchange(port, ['PROXY TCP4 198.51.100.4 198.51.100.1 41000 80\r\n' + get + get, get + 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'], { timeoutMs: 3000 });
    expect(text.match(/198\.51\.100\.4 41000 127\.0\.0\.1/g)).toHaveLength(4);
  });

  it('takes the client from a v2 preface sent alone, then the request in another packet', async () => {
    const { port } = await start();
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write(v2(1, 0x11, v4Block('203.0.113.50', '10.0.0.1', 50123, 80)));
    await new Promise((r) => setTimeout(r, 50));
    socket.end('GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    const chunks: Buffer[] = [];
    for await (const c of socket) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toContain('203.0.113.50 50123 127.0.0.1');
  });

  it('keeps the socket address for a v2 LOCAL (health check)', async () => {
    const { port } = await start();
    const { text } = await rawExchange(port, [v2(0, 0, Buffer.alloc(0)), 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n']);
    expect(text).toMatch(/127\.0\.0\.1 \d+ 127\.0\.0\.1/);
  });

  it('registers a WebSocket under the PROXY source', async () => {
    const g = await start();
    const socket = net.connect(g.port, '127.0.0.1');
    socket.write('PROXY TCP6 2001:db8::9 2001:db8::1 7000 80\r\n' + upgradeRequest({ host: `127.0.0.1:${g.port}` }));
    const [head] = (await once(socket, 'data')) as [Buffer];
    expect(head.toString()).toMatch(/^HTTP\/1\.1 101 /);
    await until(() => g.gateway.connections.size === 1, 3000, 'the connection to register');
    expect(g.gateway.connections.list()[0]).toMatchObject({ remoteAddress: '2001:db8::9', remotePort: 7000 });
    socket.destroy();
    await until(() => g.gateway.connections.size === 0, 3000, 'the connection to go');
  });

  it('hands a TLS connection over after the preface (preface and ClientHello in one packet)', async () => {
    const { port } = await start(true);
    const raw = net.connect(port, '127.0.0.1');
    let first = true;
    // Prefixes the client's first write (the ClientHello) with the preface, as a balancer's packet would.
    const carrier = new Duplex({
      write(chunk: Buffer, _enc, done) {
        raw.write(first ? Buffer.concat([Buffer.from('PROXY TCP4 192.0.2.33 192.0.2.1 1234 443\r\n'), chunk]) : chunk, done);
        first = false;
      },
      read() {
        raw.resume();
      },
    });
    raw.on('data', (c: Buffer) => void (carrier.push(c) || raw.pause()));
    raw.on('end', () => carrier.push(null));
    const secure = tls.connect({ socket: carrier, rejectUnauthorized: false });
    await once(secure, 'secureConnect');
    secure.end('GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    const chunks: Buffer[] = [];
    for await (const c of secure) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toContain('192.0.2.33 1234 127.0.0.1');
    raw.destroy();
  });

  it('closes a connection without a preface, and logs why', async () => {
    const g = await start();
    const { text, closed } = await rawExchange(g.port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(text).toBe('');
    expect(closed).toBe(true);
    expect(g.logs).toContainEqual(expect.objectContaining({ msg: 'PROXY protocol preface refused; connection closed', reason: 'not a PROXY protocol preface' }));
  });

  it('closes a connection whose preface is malformed', async () => {
    const g = await start();
    const { closed } = await rawExchange(g.port, 'PROXY TCP4 1.2.3.4 nope 1 2\r\nGET / HTTP/1.1\r\n\r\n');
    expect(closed).toBe(true);
    expect(g.logs.some((l) => l.reason === 'v1: addresses are not IPv4')).toBe(true);
  });

  it('drops a connection whose preface does not arrive within the head timeout', async () => {
    const g = await start(false, { headerTimeout: 0.3 });
    const started = Date.now();
    const { closed } = await rawExchange(g.port, 'PROXY TCP4 1.2.3.4', { timeoutMs: 3000 });
    expect(closed).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(g.logs.some((l) => String(l.reason).startsWith('no complete preface within 300 ms'))).toBe(true);
  });

  it('drops connections still in their preface when the gateway shuts down', async () => {
    const g = await start();
    const socket = net.connect(g.port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('PROXY TCP4 1.2.');
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await g.close();
    gw = undefined;
    expect(Date.now() - started).toBeLessThan(1000);
    await once(socket, 'close');
  });

  it('still answers a slow request head with 408 after the preface', async () => {
    const { port } = await start(false, { headerTimeout: 0.3 });
    const { text } = await rawExchange(port, 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\nGET / HTTP/1.1\r\n', { timeoutMs: 3000 });
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('lets a ws client through a preface-writing hop', async () => {
    const g = await start();
    // A minimal balancer: prepends the preface and pipes.
    const balancer = net.createServer((client) => {
      const upstream = net.connect(g.port, '127.0.0.1', () => {
        upstream.write(`PROXY TCP4 192.0.2.200 127.0.0.1 ${client.remotePort} ${g.port}\r\n`);
        client.pipe(upstream).pipe(client);
      });
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((r) => balancer.listen(0, '127.0.0.1', r));
    const ws = new WebSocket(`ws://127.0.0.1:${(balancer.address() as net.AddressInfo).port}`);
    await once(ws, 'open');
    expect(g.gateway.connections.list()[0]?.remoteAddress).toBe('192.0.2.200');
    ws.close();
    await once(ws, 'close');
    balancer.close();
  });
});
