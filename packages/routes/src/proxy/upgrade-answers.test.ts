/**
 * What the upstream answers to an upgrade, read off the socket: refusals relayed with their framing, and a 101
 * that is not a real handshake (wrong accept, missing Upgrade, unoffered subprotocol) refused with 502 before
 * any byte of the client's reaches the upstream.
 */
import { once } from 'node:events';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_ACCEPT, exchange, startProxyGateway, until, upgradeRequest, type ProxyGateway } from '@wsgate/test-kit';
import { upstream, type UpstreamPool } from './pool.js';
import { acceptKey } from '@wsgate/handshake';

describe('refusals read off the socket', () => {
  /** What a client gets through the gateway from an upstream that answers `answer` and keeps the connection. */
  async function through(answer: string): Promise<{ text: string; ms: number }> {
    const server = net.createServer((socket) => {
      socket.once('data', () => socket.write(answer));
      socket.on('error', () => {});
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const p = upstream(`ws://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
    const g = await startProxyGateway((req) => req.proxy(p));
    try {
      const t0 = Date.now();
      const text = await exchange(g.port, upgradeRequest());
      return { text, ms: Date.now() - t0 };
    } finally {
      await p.close();
      await g.close();
      server.close();
    }
  }

  it('relays a chunked refusal whole, and closes although the upstream keeps the connection', async () => {
    const body = '5\r\nlogin\r\n6;x=1\r\n first\r\n0\r\n\r\n';
    const { text, ms } = await through(`HTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: chunked\r\nWWW-Authenticate: Basic realm="m"\r\n\r\n${body}`);
    expect(ms).toBeLessThan(1000);
    expect(text).toMatch(/^HTTP\/1\.1 401 Unauthorized\r\n/);
    expect(text).toContain('Transfer-Encoding: chunked\r\n');
    expect(text).toContain('Connection: close\r\n');
    expect(text.endsWith(body)).toBe(true);
  });

  it('relays a Content-Length refusal and stops at its length', async () => {
    const { text } = await through('HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Length: 4\r\n\r\nnopeGARBAGE');
    expect(text).toMatch(/^HTTP\/1\.1 426 Upgrade Required\r\n[\s\S]*Sec-WebSocket-Version: 13\r\n[\s\S]*\r\n\r\nnope$/);
  });

  it('answers 504 when the upstream accepts but never answers within timeouts.http', async () => {
    const mute = net.createServer((socket) => socket.on('error', () => {}));
    mute.listen(0, '127.0.0.1');
    await once(mute, 'listening');
    const p = upstream(`ws://127.0.0.1:${(mute.address() as net.AddressInfo).port}`, { timeouts: { http: 0.3 } });
    const g = await startProxyGateway((req) => req.proxy(p));
    try {
      const t0 = Date.now();
      const text = await exchange(g.port, upgradeRequest());
      expect(text).toMatch(/^HTTP\/1\.1 504 Gateway Timeout\r\n[\s\S]*upstream timed out\n$/);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
      expect(Date.now() - t0).toBeLessThan(1000);
    } finally {
      await p.close();
      await g.close();
      mute.close();
    }
  });

  it('lets the upstream connection go within a second when the client leaves (FIN) before the answer', async () => {
    const held = new Set<net.Socket>();
    const mute = net.createServer((socket) => {
      held.add(socket);
      socket.resume(); // reads, so that it sees the gateway's FIN
      socket.on('close', () => held.delete(socket));
      socket.on('error', () => {});
    });
    mute.listen(0, '127.0.0.1');
    await once(mute, 'listening');
    const p = upstream(`ws://127.0.0.1:${(mute.address() as net.AddressInfo).port}`, { timeouts: { http: 30 } });
    const g = await startProxyGateway((req) => req.proxy(p));
    try {
      const client = net.connect(g.port, '127.0.0.1');
      await once(client, 'connect');
      client.write(upgradeRequest());
      await until(() => held.size === 1, 1000, 'the upstream connected');
      const t0 = Date.now();
      client.end();
      await until(() => held.size === 0, 2000, 'the upstream connection closed');
      // The deadline sweep notices it: at most a second (a quarter of the shortest timeout, capped).
      expect(Date.now() - t0).toBeLessThan(1500);
      client.destroy();
    } finally {
      for (const s of held) s.destroy();
      await p.close();
      await g.close();
      mute.close();
    }
  });

  it('answers 502 to an answer that is not HTTP', async () => {
    const { text } = await through('SSH-2.0-OpenSSH_9.6\r\n\r\n');
    expect(text).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n[\s\S]*not an HTTP\/1\.1 status line/);
  });
});

describe('a 101 that is not a real handshake', () => {
  let fake: net.Server;
  let received: string;
  let answer: (key: string) => string;
  let p: UpstreamPool;
  let g: ProxyGateway;
  beforeAll(async () => {
    fake = net.createServer((socket) => {
      let head = '';
      socket.on('data', (c: Buffer) => {
        received += c.toString('latin1');
        head += c.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        const key = /sec-websocket-key: (\S+)/i.exec(head)?.[1] ?? '';
        head = '';
        socket.write(answer(key));
      });
      socket.on('error', () => {});
    });
    fake.listen(0, '127.0.0.1');
    await once(fake, 'listening');
    p = upstream(`ws://127.0.0.1:${(fake.address() as net.AddressInfo).port}`);
    g = await startProxyGateway((req) => req.proxy(p));
  });
  afterAll(async () => {
    await p.close();
    await g.close();
    fake.close();
  });
  afterEach(() => (received = ''));

  it('is refused with 502 when the accept value is wrong, and no client byte reaches the upstream', async () => {
    // The accept for the *client's* key: what an endpoint reflecting the client's headers could produce.
    answer = () => `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${CLIENT_ACCEPT}\r\n\r\n`;
    received = '';
    const smuggled = 'GET /admin HTTP/1.1\r\nHost: internal\r\n\r\n';
    const text = await exchange(g.port, upgradeRequest() + smuggled);
    expect(text).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
    expect(text).toContain('wrong Sec-WebSocket-Accept');
    expect(received).not.toContain('/admin');
    expect(g.logs.some((l) => l.msg === 'upstream failed' && String(l.reason).includes('wrong Sec-WebSocket-Accept'))).toBe(true);
  });

  it('is refused with 502 when the status is 101 but Upgrade is missing', async () => {
    answer = (key) => `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`;
    expect(await exchange(g.port, upgradeRequest())).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
  });

  it('is refused when it picks a subprotocol the client did not offer', async () => {
    answer = (key) => `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\nSec-WebSocket-Protocol: admin\r\n\r\n`;
    const text = await exchange(g.port, upgradeRequest({ extra: ['Sec-WebSocket-Protocol: sip'] }));
    expect(text).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
    expect(text).toContain('did not offer');
  });

  it('opens the tunnel for a correct 101, then relays the early bytes of both sides in order', async () => {
    answer = (key) => `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\nfirst-from-upstream`;
    const socket = net.connect(g.port, '127.0.0.1');
    let got = '';
    socket.on('data', (c: Buffer) => (got += c.toString('latin1')));
    socket.write(upgradeRequest() + 'early-from-client');
    await until(() => got.includes('first-from-upstream') && received.includes('early-from-client'));
    expect(got).toContain(`Sec-WebSocket-Accept: ${CLIENT_ACCEPT}\r\n`);
    expect(received.indexOf('early-from-client')).toBeGreaterThan(received.indexOf('\r\n\r\n'));
    socket.destroy();
  });
});
