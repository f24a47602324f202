/** Message mode (`onMessage`): both sides parsed by `ws`, every message seen, passed, dropped or rewritten. */
import { once } from 'node:events';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { exchange, startProxyGateway, startUpstream, until, upgradeRequest, type ProxyGateway, type Upstream } from '@wsgate/test-kit';
import { upstream, type UpstreamPool } from './pool.js';
import type { ProxiedMessage } from '../upstream/relay/message-hook.js';

let up: Upstream;
let pool: UpstreamPool;
let gw: ProxyGateway;
const seen: ProxiedMessage[] = [];

beforeAll(async () => {
  up = await startUpstream({ name: 'm', protocols: ['sip'] });
  pool = upstream(up.url);
  const hooked = pool.with({
    onMessage: async (m, tunnel) => {
      seen.push(m);
      const text = m.data.toString();
      if (text === 'drop me') return false;
      if (text === 'shout') return 'SHOUT';
      if (text === 'who') return `${tunnel.clientIp} via ${tunnel.upstream} ${tunnel.protocol}`;
      if (text.startsWith('slow')) await new Promise((r) => setTimeout(r, Number(text.slice(4))));
      if (text === 'boom') throw new Error('hook failure');
      return undefined;
    },
  });
  gw = await startProxyGateway((req) => req.proxy(hooked));
});
afterAll(async () => {
  await pool.close();
  await gw.close();
  await up.close();
});

async function open(protocols?: string[]): Promise<{ ws: WebSocket; got: string[] }> {
  const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/msg`, protocols);
  const got: string[] = [];
  ws.on('message', (d: Buffer) => got.push(d.toString()));
  await once(ws, 'open');
  return { ws, got };
}

describe('message mode', () => {
  it('passes, drops and rewrites messages, both ways, keeping order across a slow async hook', async () => {
    const { ws, got } = await open(['sip']);
    expect(ws.protocol).toBe('sip');
    for (const m of ['a', 'drop me', 'slow80', 'b', 'shout', 'who']) ws.send(m);
    await until(() => got.length === 5);
    // Echoed by the upstream: each message crosses the hook twice (rewritten once on each way for "shout").
    expect(got).toEqual(['a', 'slow80', 'b', 'SHOUT', '127.0.0.1 via 127.0.0.1:' + up.port + ' sip']);
    expect(seen.filter((m) => m.from === 'client').map((m) => m.data.toString())).toEqual(['a', 'drop me', 'slow80', 'b', 'shout', 'who']);
    expect(seen.some((m) => m.from === 'upstream' && m.data.toString() === 'SHOUT')).toBe(true);
    ws.close();
  });

  it('passes the close code both ways', async () => {
    const { ws } = await open();
    await until(() => up.sockets.size === 1);
    const upstreamSide = [...up.sockets][0]!;
    const upstreamClosed = once(upstreamSide, 'close');
    ws.close(4321, 'bye');
    const [code, reason] = await upstreamClosed;
    expect([code, String(reason)]).toEqual([4321, 'bye']);
    const next = await open();
    await until(() => up.sockets.size === 1);
    const closed = once(next.ws, 'close');
    [...up.sockets][0]!.close(1001, 'Going Away');
    expect((await closed)[0]).toBe(1001);
  });

  it('drops the client (1006) when the upstream drops, and closes with 1011 when the hook throws', async () => {
    const { ws } = await open();
    await until(() => up.sockets.size === 1);
    const closed = once(ws, 'close');
    [...up.sockets][0]!.terminate();
    expect((await closed)[0]).toBe(1006);
    const second = await open();
    const closed2 = once(second.ws, 'close');
    second.ws.send('boom');
    expect((await closed2)[0]).toBe(1011);
    expect(gw.logs.some((l) => l.msg === 'onMessage threw; closing the tunnel with 1011')).toBe(true);
    await until(() => pool.openTunnels === 0);
  });

  it('refuses a request that is not a version-13 WebSocket handshake', async () => {
    const text = await exchange(gw.port, upgradeRequest({ host: '127.0.0.1' }).replace('Sec-WebSocket-Version: 13', 'Sec-WebSocket-Version: 8'));
    expect(text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(text).toContain('Sec-WebSocket-Version: 13\r\n');
  });

  it('relays the upstream refusal', async () => {
    const refusing = await startUpstream({ refuse: () => 'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="x"\r\nContent-Length: 0\r\n\r\n' });
    const p = upstream(refusing.url);
    const g = await startProxyGateway((req) => req.proxy(p.with({ onMessage: () => undefined })));
    const text = await exchange(g.port, upgradeRequest());
    expect(text).toMatch(/^HTTP\/1\.1 401 Unauthorized\r\n/);
    expect(text).toContain('WWW-Authenticate: Basic realm="x"\r\n');
    await p.close();
    await g.close();
    await refusing.close();
  });
});

describe('message mode backpressure', () => {
  it('keeps the gateway buffers bounded for a slow client, and every message arrives in order', async () => {
    const COUNT = 200;
    const SIZE = 256 * 1024;
    const producer = await startUpstream({
      onConnection: (ws) => {
        // As fast as the gateway takes them: 50 MB in all.
        for (let i = 0; i < COUNT; i++) ws.send(Buffer.alloc(SIZE, i & 0xff));
      },
    });
    const p = upstream(producer.url);
    const clientSides: import('node:net').Socket[] = [];
    const g = await startProxyGateway((req) => {
      clientSides.push(req.raw.socket as import('node:net').Socket);
      return req.proxy(p.with({ onMessage: () => undefined }));
    });
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${g.port}/`);
      const got: number[] = [];
      ws.on('message', (d: Buffer) => got.push(d.length === SIZE && d[0] === d[SIZE - 1] ? d[0]! : -1));
      await once(ws, 'open');
      ws.pause();
      let maxQueued = 0;
      const sampler = setInterval(() => (maxQueued = Math.max(maxQueued, clientSides.at(-1)!.writableLength)), 5);
      await new Promise((r) => setTimeout(r, 500));
      ws.resume();
      await until(() => got.length === COUNT, 10_000, 'every message');
      clearInterval(sampler);
      expect(got).toEqual(Array.from({ length: COUNT }, (_, i) => i & 0xff));
      // One message and the bridge's high-water mark, never the 50 MB.
      expect(maxQueued).toBeLessThan(4 * 1024 * 1024);
      ws.close();
    } finally {
      await p.close();
      await g.close();
      await producer.close();
    }
  });
});

describe('message mode, an upstream that accepts and never answers', () => {
  let mute: net.Server;
  const held = new Set<net.Socket>();
  beforeAll(async () => {
    // Reads (and drops) the request, so that it sees the gateway's FIN; answers nothing.
    mute = net.createServer((socket) => {
      held.add(socket);
      socket.resume();
      socket.on('close', () => held.delete(socket));
      socket.on('error', () => {});
    });
    mute.listen(0, '127.0.0.1');
    await once(mute, 'listening');
  });
  afterAll(() => {
    for (const s of held) s.destroy();
    mute.close();
  });
  const muteUrl = () => `ws://127.0.0.1:${(mute.address() as net.AddressInfo).port}`;

  it('answers 504 after timeouts.http, as raw mode does, and lets the upstream connection go', async () => {
    const p = upstream(muteUrl(), { timeouts: { http: 0.3 } });
    const g = await startProxyGateway((req) => req.proxy(p.with({ onMessage: () => undefined })));
    try {
      const t0 = Date.now();
      const text = await exchange(g.port, upgradeRequest());
      const ms = Date.now() - t0;
      expect(text).toMatch(/^HTTP\/1\.1 504 Gateway Timeout\r\n[\s\S]*upstream timed out\n$/);
      expect(ms).toBeGreaterThanOrEqual(280);
      expect(ms).toBeLessThan(1000);
      await until(() => held.size === 0, 1000, 'the upstream connection closed');
      expect(g.logs.some((l) => l.msg === 'upstream failed' && l.status === 504 && l.reason === 'upstream timed out')).toBe(true);
    } finally {
      await p.close();
      await g.close();
    }
  });

  it('releases the upstream connection at once when the client leaves before the answer', async () => {
    const p = upstream(muteUrl(), { timeouts: { http: 30 } });
    const g = await startProxyGateway((req) => req.proxy(p.with({ onMessage: () => undefined })));
    try {
      const client = net.connect(g.port, '127.0.0.1');
      await once(client, 'connect');
      client.write(upgradeRequest());
      await until(() => held.size === 1, 1000, 'the upstream connected');
      const t0 = Date.now();
      client.end();
      await until(() => held.size === 0, 1000, 'the upstream connection closed');
      expect(Date.now() - t0).toBeLessThan(500);
      await until(() => p.status()[0]!.active === 0);
      client.destroy();
    } finally {
      await p.close();
      await g.close();
    }
  });
});
