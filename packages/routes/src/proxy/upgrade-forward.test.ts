/** WebSocket upgrades through the proxy in raw mode, against real `ws` upstreams and raw fake ones. */
import { once } from 'node:events';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  CLIENT_ACCEPT,
  exchange,
  rawExchange,
  startProxyGateway,
  startUpstream,
  until,
  upgradeRequest,
  type ProxyGateway,
  type Upstream,
} from '@wsgate/test-kit';
import { upstream, upstreams, type UpstreamPool } from './pool.js';
import { acceptKey } from '@wsgate/handshake';

let up: Upstream;
let pool: UpstreamPool;
let gw: ProxyGateway;

beforeAll(async () => {
  up = await startUpstream({ name: 'a', protocols: ['sip', 'chat'] });
  pool = upstream(up.url);
  gw = await startProxyGateway((req) => req.proxy(pool));
});
afterAll(async () => {
  await pool.close();
  await gw.close();
  await up.close();
});

function open(url: string, protocols?: string[], options?: WebSocket.ClientOptions): Promise<WebSocket> {
  const ws = new WebSocket(url, protocols, options);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, headers: res.headers })));
  });
}

describe('raw tunnel', () => {
  it('relays messages both ways, text and binary, and the upstream chosen subprotocol', async () => {
    const ws = await open(`ws://127.0.0.1:${gw.port}/room`, ['chat', 'sip']);
    expect(ws.protocol).toBe('sip');
    ws.send('whoami');
    const [name] = await once(ws, 'message');
    expect(String(name)).toBe('a');
    ws.send(Buffer.from([1, 2, 3]));
    const [bin, isBinary] = await once(ws, 'message');
    expect([...(bin as Buffer)]).toEqual([1, 2, 3]);
    expect(isBinary).toBe(true);
    ws.close(4000, 'bye');
    const [code, reason] = await once(ws, 'close');
    expect([code, String(reason)]).toEqual([4000, 'bye']);
  });

  it('sends the upstream its own key, the client the accept for the client key, and relays extensions', async () => {
    const deflating = await startUpstream({ name: 'z', perMessageDeflate: true });
    const p = upstream(deflating.url);
    const g = await startProxyGateway((req) => req.proxy(p));
    try {
      const text = await exchange(g.port, upgradeRequest({ path: '/x', extra: ['Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits'] }), { timeoutMs: 500 });
      expect(text).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
      expect(text).toContain(`Sec-WebSocket-Accept: ${CLIENT_ACCEPT}\r\n`);
      expect(text).toMatch(/Sec-WebSocket-Extensions: permessage-deflate/);
      expect(text).toContain('X-Node: z\r\n');
      const sent = deflating.requests.at(-1)!;
      expect(sent.headers['sec-websocket-key']).not.toBe('dGhlIHNhbXBsZSBub25jZQ==');
      expect(sent.headers.connection).toBe('upgrade');
      expect(sent.headers.upgrade).toBe('websocket');
    } finally {
      await p.close();
      await g.close();
      await deflating.close();
    }
  });

  it('passes header bytes on as they came, obs-text included (no re-encoding), both ways', async () => {
    // A raw upstream: reads the head as bytes and answers a 101 carrying an obs-text value of its own.
    let received = Buffer.alloc(0);
    const raw = net.createServer((socket) => {
      socket.on('data', (c: Buffer) => {
        received = Buffer.concat([received, c]);
        const head = received.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        const key = /sec-websocket-key: (\S+)/i.exec(head)![1]!;
        socket.write(Buffer.concat([Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\nX-Served-By: `), Buffer.from([0x6e, 0xe9, 0x6f]), Buffer.from('\r\n\r\n')]));
      });
    });
    raw.listen(0, '127.0.0.1');
    await once(raw, 'listening');
    const p = upstream(`ws://127.0.0.1:${(raw.address() as net.AddressInfo).port}`);
    const g = await startProxyGateway((req) => req.proxy(p));
    try {
      const request = Buffer.concat([Buffer.from(upgradeRequest({ extra: ['X-Name: caf'] }).replace(/\r\n\r\n$/, '')), Buffer.from([0xe9]), Buffer.from('\r\n\r\n')]);
      const answer = await rawExchange(g.port, request, { timeoutMs: 500, ignoreErrors: true });
      expect(answer.text).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
      expect(answer.data.includes(Buffer.from([0x6e, 0xe9, 0x6f, 0x0d, 0x0a]))).toBe(true);
      expect(received.includes(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0d, 0x0a]))).toBe(true);
    } finally {
      await p.close();
      await g.close();
      raw.close();
    }
  });

  it('answers 400 itself to a WebSocket request whose key is not 16 bytes of base64', async () => {
    const before = up.requests.length;
    const text = await exchange(gw.port, upgradeRequest().replace(/Sec-WebSocket-Key: \S+/, 'Sec-WebSocket-Key: short'));
    expect(text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*Sec-WebSocket-Key must be the base64 of 16 bytes/);
    expect(up.requests.length).toBe(before);
  });

  it("relays the upstream's refusal with its status and body", async () => {
    const refusing = await startUpstream({ name: 'r', refuse: () => 'HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 7\r\nX-Why: token\r\n\r\nno way\n' });
    const p = upstream(refusing.url);
    const g = await startProxyGateway((req) => req.proxy(p));
    try {
      const err = await open(`ws://127.0.0.1:${g.port}/`).catch((e: { status: number; headers: Record<string, string> }) => e);
      expect(err).toMatchObject({ status: 403, headers: { 'x-why': 'token' } });
      const text = await exchange(g.port, upgradeRequest());
      expect(text).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
      expect(text).toMatch(/\r\n\r\nno way\n$/);
    } finally {
      await p.close();
      await g.close();
      await refusing.close();
    }
  });
});

describe('closing', () => {
  it.each([
    ['a plain listener (its upgrade fast path)', {}, ''],
    ['a PROXY protocol listener', { listeners: [{ host: '127.0.0.1', port: 0, proxyProtocol: true }] }, 'PROXY TCP4 203.0.113.7 127.0.0.1 40000 80\r\n'],
  ])('passes a half-close on (FIN), and the other direction keeps flowing, on %s', async (_, config, preface) => {
    const echoRaw = net.createServer({ allowHalfOpen: true }, (socket) => {
      let head = '';
      let tunneled = false;
      socket.on('data', (c: Buffer) => {
        if (tunneled) return void socket.write(c);
        head += c.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        tunneled = true;
        const key = /sec-websocket-key: (\S+)/i.exec(head)![1]!;
        socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`);
      });
      // After the client's FIN: a last word, then our own FIN.
      socket.on('end', () => socket.end('after-your-fin'));
    });
    echoRaw.listen(0, '127.0.0.1');
    await once(echoRaw, 'listening');
    const p = upstream(`ws://127.0.0.1:${(echoRaw.address() as net.AddressInfo).port}`);
    const g = await startProxyGateway((req) => req.proxy(p), config);
    try {
      const socket = net.connect({ port: g.port, host: '127.0.0.1', allowHalfOpen: true });
      let got = '';
      socket.on('data', (c: Buffer) => (got += c.toString('latin1')));
      socket.write(preface + upgradeRequest());
      await until(() => got.includes('\r\n\r\n'));
      socket.write('ping-bytes');
      await until(() => got.includes('ping-bytes'));
      socket.end();
      await once(socket, 'end');
      expect(got).toMatch(/ping-bytes after-your-fin$|ping-bytesafter-your-fin$/);
      await until(() => p.openTunnels === 0);
    } finally {
      await p.close();
      await g.close();
      echoRaw.close();
    }
  });

  it('closes the client promptly when the upstream dies mid-tunnel', async () => {
    const dying = await startUpstream({ name: 'd' });
    const p = upstream(dying.url);
    const g = await startProxyGateway((req) => req.proxy(p));
    try {
      const ws = await open(`ws://127.0.0.1:${g.port}/`);
      await until(() => dying.sockets.size === 1);
      const t0 = Date.now();
      for (const s of dying.sockets) (s as unknown as { _socket: net.Socket })._socket.destroy();
      const [code] = await once(ws, 'close');
      expect(code).toBe(1006);
      expect(Date.now() - t0).toBeLessThan(500);
      await until(() => p.openTunnels === 0);
    } finally {
      await p.close();
      await g.close();
      await dying.close();
    }
  });

  it('closes the upstream side when the client goes, and counts the tunnel out', async () => {
    const ws = await open(`ws://127.0.0.1:${gw.port}/`);
    await until(() => pool.openTunnels === 1 && up.sockets.size === 1);
    ws.terminate();
    await until(() => pool.openTunnels === 0 && up.sockets.size === 0);
    expect(pool.status()[0]!.active).toBe(0);
  });

  it('gateway.close() ends open tunnels when the listener stops (1001 in raw and message mode)', async () => {
    const p = upstream(up.url);
    const g = await startProxyGateway((req) => req.proxy(req.path === '/messages' ? p.with({ onMessage: () => undefined }) : p));
    const raw = await open(`ws://127.0.0.1:${g.port}/`);
    const parsed = await open(`ws://127.0.0.1:${g.port}/messages`);
    const closed = Promise.all([once(raw, 'close'), once(parsed, 'close')]);
    const t0 = Date.now();
    await g.close();
    expect(Date.now() - t0).toBeLessThan(2500);
    const [[rawCode], [parsedCode]] = await closed;
    expect([rawCode, parsedCode]).toEqual([1001, 1001]);
    await p.close();
  });

  it('pool.close() ends open tunnels', async () => {
    const p = upstream(up.url);
    const g = await startProxyGateway((req) => req.proxy(p));
    const ws = await open(`ws://127.0.0.1:${g.port}/`);
    const closed = once(ws, 'close');
    await p.close();
    const [code] = await closed;
    expect(code).toBe(1001);
    expect(p.openTunnels).toBe(0);
    await g.close();
  });
});

describe('balancing upgrades', () => {
  it('moves to the next node when one refuses connections, and answers 502 when none is left', async () => {
    const b = await startUpstream({ name: 'b' });
    const dead = net.createServer();
    dead.listen(0, '127.0.0.1');
    await once(dead, 'listening');
    const deadPort = (dead.address() as net.AddressInfo).port;
    dead.close();
    const p = upstreams({ servers: [`ws://127.0.0.1:${deadPort}`, b.url] });
    const g = await startProxyGateway((req) => req.proxy(p));
    try {
      for (let i = 0; i < 3; i++) {
        const ws = await open(`ws://127.0.0.1:${g.port}/`);
        ws.send('whoami');
        expect(String((await once(ws, 'message'))[0])).toBe('b');
        ws.close();
      }
      expect(g.logs.some((l) => l.msg === 'upstream failed' && l.reason === 'upstream refused the connection' && l.upstream === `ws://127.0.0.1:${deadPort}`)).toBe(true);
      // What the client got and what failed on the way reach core's counters.
      const metrics = await g.gateway.metrics.registry.metrics();
      expect(metrics).toMatch(/wsgate_requests_total\{[^}]*status="101"[^}]*\} 3\n/);
      expect(metrics).toContain(`wsgate_upstream_errors_total{upstream="ws://127.0.0.1:${deadPort}",cause="upstream refused the connection"} 1`);
      await b.close();
      const text = await exchange(g.port, upgradeRequest());
      expect(text).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
    } finally {
      await p.close();
      await g.close();
    }
  });
});
