/** Proxied WebSockets in the gateway's connection registry (`req.track()`), raw and message mode, over real sockets. */
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { CloseInfo, ConnectionEntry } from '@wsgate/core';
import { startProxyGateway, startUpstream, until, type ProxyGateway, type Upstream } from '@wsgate/test-kit';
import type { Guard } from '../kit/guard.js';
import { rateLimit } from '../access/rate-limit.js';
import { upstream, type UpstreamPool } from './pool.js';

let up: Upstream;
let raw: UpstreamPool;
let pinged: UpstreamPool;
let parsed: ReturnType<UpstreamPool['with']>;
let gw: ProxyGateway;
const ends: { kind: string; info: CloseInfo }[] = [];

beforeAll(async () => {
  up = await startUpstream({ name: 'a', protocols: ['sip'] });
  raw = upstream(up.url);
  // Pings on: the raw tunnel follows frame boundaries, so it can close with a close frame.
  pinged = upstream(up.url, { ping: { interval: 60 } });
  parsed = raw.with({ onMessage: () => undefined });
  gw = await startProxyGateway((req) => {
    req.set('user', 'carol');
    return req.proxy(req.path.startsWith('/messages') ? parsed : req.path.startsWith('/pinged') ? pinged : raw);
  });
  gw.gateway.connections.subscribe({ closed: (c: ConnectionEntry, info) => void ends.push({ kind: c.kind, info }) });
});
afterAll(async () => {
  await Promise.all([raw.close(), pinged.close()]);
  await gw.close();
  await up.close();
});

function open(path: string, options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${gw.port}${path}`, ['sip'], options);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
  });
}

function only(): ConnectionEntry {
  const all = gw.gateway.connections.list();
  expect(all).toHaveLength(1);
  return all[0]!;
}

describe.each([
  ['raw', '/raw'],
  ['message', '/messages'],
])('a proxied WebSocket in %s mode', (_mode, path) => {
  it('is listed with the request attributes and the real client address, and counts its traffic', async () => {
    const ws = await open(`${path}/room`, { localAddress: '127.0.0.2' });
    await until(() => gw.gateway.connections.size === 1, 2000, 'tunnel listed');
    const entry = only();
    expect(entry.kind).toBe('proxied');
    expect(entry.get('user')).toBe('carol');
    expect(entry.remoteAddress).toBe('127.0.0.2');
    expect(entry.remotePort).toBe((ws as unknown as { _socket: { localPort: number } })._socket.localPort);
    expect(entry.toJSON()).toMatchObject({ kind: 'proxied', protocol: 'sip', path: `${path}/room`, state: 'open', remote: `127.0.0.2:${entry.remotePort}` });
    ws.send('whoami');
    expect(String((await once(ws, 'message'))[0])).toBe('a');
    const counts = entry.counts();
    expect(counts.bytesIn).toBeGreaterThan(0);
    expect(counts.bytesOut).toBeGreaterThan(0);
    ws.close(1000, 'done');
    await once(ws, 'close');
    await until(() => gw.gateway.connections.size === 0, 2000, 'entry removed after the client closed');
    expect(ends.at(-1)).toMatchObject({ kind: 'proxied', info: { by: 'remote' } });
  });

  it('leaves the registry when the upstream closes', async () => {
    const ws = await open(path);
    await until(() => gw.gateway.connections.size === 1 && up.sockets.size === 1, 2000, 'tunnel open');
    const closed = once(ws, 'close');
    for (const s of up.sockets) s.close(4002, 'upstream leaving');
    const [code] = await closed;
    expect(code).toBe(4002);
    await until(() => gw.gateway.connections.size === 0, 2000, 'entry removed after the upstream closed');
    expect(ends.at(-1)!.info.by).toBe('remote');
  });

  it('gateway.connections.close(id, 4001, "revoked") ends it on the client side', async () => {
    const ws = await open(path);
    await until(() => gw.gateway.connections.size === 1, 2000, 'tunnel listed');
    const closed = once(ws, 'close');
    expect(gw.gateway.connections.close(only().id, 4001, 'revoked')).toBe(true);
    const [code, reason] = await closed;
    // Both modes close with the code: raw mode follows the frame boundaries of every WebSocket tunnel.
    expect([code, String(reason)]).toEqual([4001, 'revoked']);
    await until(() => gw.gateway.connections.size === 0 && up.sockets.size === 0, 2000, 'both sides gone');
    expect(ends.at(-1)!.info).toEqual({ code: 4001, reason: 'revoked', by: 'local' });
  });

  it('is found by id for ping(id) (message mode pings the client) and refuses send(id)', async () => {
    const ws = await open(path);
    await until(() => gw.gateway.connections.size === 1, 2000, 'tunnel listed');
    const { id } = only();
    const pings: unknown[] = [];
    ws.on('ping', (data) => void pings.push(data));
    expect(gw.gateway.connections.ping(id)).toBe(true);
    // A raw tunnel without frame boundaries cannot inject a ping: found, not pinged.
    if (path === '/messages') await until(() => pings.length === 1, 2000, 'ping at the client');
    expect(gw.gateway.connections.send(id, 'not into a tunnel')).toBe(false);
    expect(gw.gateway.connections.ping(id + 1000)).toBe(false);
    ws.close();
    await until(() => gw.gateway.connections.size === 0, 2000, 'entry removed');
    if (path === '/raw') expect(pings).toEqual([]);
  });
});

describe('a raw tunnel that follows frame boundaries (pings on)', () => {
  it('closes by id with a close frame each way, then a FIN', async () => {
    const ws = await open('/pinged');
    await until(() => gw.gateway.connections.size === 1 && up.sockets.size === 1, 2000, 'tunnel open');
    const [upSide] = up.sockets;
    const upstreamClosed = once(upSide!, 'close');
    const closed = once(ws, 'close');
    gw.gateway.connections.close(only().id, 4001, 'revoked');
    const [code, reason] = await closed;
    expect([code, String(reason)]).toEqual([4001, 'revoked']);
    const [upCode, upReason] = await upstreamClosed;
    expect([upCode, String(upReason)]).toEqual([4001, 'revoked']);
    await until(() => gw.gateway.connections.size === 0, 2000, 'entry removed');
    expect(ends.at(-1)!.info).toEqual({ code: 4001, reason: 'revoked', by: 'local' });
  });

  it('terminate() drops both sides', async () => {
    const ws = await open('/pinged');
    await until(() => gw.gateway.connections.size === 1 && up.sockets.size === 1, 2000, 'tunnel open');
    const closed = once(ws, 'close');
    only().terminate();
    expect((await closed)[0]).toBe(1006);
    await until(() => gw.gateway.connections.size === 0 && up.sockets.size === 0, 2000, 'both sides gone');
    expect(ends.at(-1)!.info).toEqual({ code: 1006, reason: '', by: 'local' });
  });
});

describe('rateLimit({ connections }) and proxied WebSockets', () => {
  it.each(['/raw', '/messages'])('refuses a second proxied WebSocket from the same IP (%s)', async (path) => {
    const pool = upstream(up.url);
    const target = path === '/messages' ? pool.with({ onMessage: () => undefined }) : pool;
    let limiter: Guard | undefined;
    const g = await startProxyGateway(async (req) => {
      if (!(await limiter!.check(req))) return;
      return req.proxy(target);
    });
    limiter = rateLimit({ connections: { max: 1 }, gateway: g.gateway });
    try {
      const url = `ws://127.0.0.1:${g.port}${path}`;
      const first = new WebSocket(url, { localAddress: '127.0.0.3' });
      await once(first, 'open');
      await until(() => g.gateway.connections.size === 1, 2000, 'first tracked');
      const second = new WebSocket(url, { localAddress: '127.0.0.3' });
      const [, res] = (await once(second, 'unexpected-response')) as [unknown, { statusCode: number }];
      expect(res.statusCode).toBe(429);
      const elsewhere = new WebSocket(url, { localAddress: '127.0.0.4' });
      await once(elsewhere, 'open');
      first.close();
      await until(() => g.gateway.connections.size === 1, 2000, 'first gone');
      const again = new WebSocket(url, { localAddress: '127.0.0.3' });
      await once(again, 'open');
      again.close();
      elsewhere.close();
      await until(() => g.gateway.connections.size === 0, 2000, 'all gone');
    } finally {
      await limiter.close();
      await pool.close();
      await g.close();
    }
  });
});

describe('one registration per tunnel', () => {
  it.each(['/raw', '/messages'])("the pool's shutdown ends its tunnels and takes each out of the directory once (%s)", async (path) => {
    const pool = upstream(up.url);
    const target = path === '/messages' ? pool.with({ onMessage: () => undefined }) : pool;
    const g = await startProxyGateway((req) => req.proxy(target));
    const closedIds: number[] = [];
    g.gateway.connections.subscribe({ closed: (c) => void closedIds.push(c.id) });
    try {
      const clients = await Promise.all([1, 2].map(() => new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${g.port}${path}`);
        ws.once('open', () => resolve(ws));
        ws.once('error', reject);
      })));
      await until(() => g.gateway.connections.size === 2 && pool.openTunnels === 2, 2000, 'both tunnels in the pool and the directory');
      const ids = (await g.gateway.connections.list()).map((c) => c.id);
      await Promise.all([pool.retire('shutdown'), ...clients.map((ws) => once(ws, 'close'))]);
      await until(() => g.gateway.connections.size === 0, 2000, 'entries removed');
      expect(pool.openTunnels).toBe(0);
      expect(closedIds.toSorted()).toEqual(ids.toSorted());
    } finally {
      await pool.close();
      await g.close();
    }
  });
});
