/**
 * `pool.retire()` as core's `routes:close` drives it: a reload leaves open tunnels relaying and only stops
 * timers; a shutdown ends tunnels at once (1001 Going Away both ways, in raw mode as in message mode) and
 * refuses new ones.
 */
import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { defineRoutes } from '@wsgate/core';
import { exchange, maskedFrame, sleep, startProxyGateway, startUpstream, until, upgradeRequest, type ProxyGateway, type Upstream } from '@wsgate/test-kit';
import { upstream, type UpstreamPool } from './pool.js';

let up: Upstream | undefined;
let gw: ProxyGateway | undefined;
let pool: UpstreamPool | undefined;
afterEach(async () => {
  await pool?.close();
  await gw?.close();
  await up?.close();
  [up, gw, pool] = [undefined, undefined, undefined];
});

async function openWs(port: number): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
  await once(ws, 'open');
  return ws;
}

async function echoes(ws: WebSocket, text: string): Promise<boolean> {
  const reply = once(ws, 'message');
  ws.send(text);
  return String((await reply)[0]) === text;
}

/** A raw client past its 101, reading on. */
async function openRaw(port: number): Promise<net.Socket> {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  socket.write(upgradeRequest());
  const [head] = (await once(socket, 'data')) as [Buffer];
  expect(head.toString('latin1', 0, 12)).toBe('HTTP/1.1 101');
  return socket;
}

describe('pool.retire()', () => {
  it("'reload' stops health checks and leaves raw and message tunnels relaying both ways", async () => {
    let checks = 0;
    up = await startUpstream({
      onRequest: (req, res) => {
        if (req.url === '/healthz') checks++;
        res.end('ok');
      },
    });
    pool = upstream(up.url, { healthCheck: { path: '/healthz', interval: 0.05 } });
    const hooked = pool.with({ onMessage: () => undefined });
    gw = await startProxyGateway((req) => req.proxy(req.path === '/m' ? hooked : pool!));
    const raw = await openWs(gw.port);
    const message = new WebSocket(`ws://127.0.0.1:${gw.port}/m`);
    await once(message, 'open');
    await sleep(150);
    expect(checks).toBeGreaterThan(0);

    await pool.retire('reload');
    const after = checks;
    await sleep(200);
    expect(checks).toBe(after);
    expect(await echoes(raw, 'raw, after the reload')).toBe(true);
    expect(await echoes(message, 'message mode, after the reload')).toBe(true);
    // Requests that raced the reload are still served by the old pool.
    const late = await openWs(gw.port);
    expect(await echoes(late, 'late')).toBe(true);
    expect(pool.openTunnels).toBe(3);
    for (const ws of [raw, message, late]) ws.close();
  });

  it("'shutdown' ends raw and message tunnels with 1001 at once, and refuses new upgrades with 503", async () => {
    up = await startUpstream();
    pool = upstream(up.url);
    const hooked = pool.with({ onMessage: () => undefined });
    gw = await startProxyGateway((req) => req.proxy(req.path === '/m' ? hooked : pool!));
    const raw = await openRaw(gw.port);
    const message = new WebSocket(`ws://127.0.0.1:${gw.port}/m`);
    await once(message, 'open');
    // The raw client answers the close frame with its own, as a WebSocket client does, and then the FIN.
    const rawClose = new Promise<Buffer>((resolve) => raw.once('data', (frame: Buffer) => {
      raw.write(maskedFrame(0x8, frame.subarray(2, 4)));
      resolve(frame);
    }));
    raw.once('end', () => raw.end());
    const rawEnded = once(raw, 'end');
    const messageClosed = once(message, 'close');
    const t0 = Date.now();
    await pool.retire('shutdown');
    expect(Date.now() - t0).toBeLessThan(500);
    await rawEnded;
    expect(await rawClose).toEqual(Buffer.from([0x88, 0x0c, 0x03, 0xe9, ...Buffer.from('Going Away')]));
    expect((await messageClosed)[0]).toBe(1001);
    expect(pool.openTunnels).toBe(0);
    expect(await exchange(gw.port, upgradeRequest())).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n[\s\S]*The gateway is shutting down\n$/);
    raw.destroy();
  });
});

describe('routes:close through a gateway', () => {
  it('keeps tunnels across gateway.reload() and ends them promptly on gateway.close()', async () => {
    up = await startUpstream();
    const first = upstream(up.url);
    const second = upstream(up.url);
    const routes = (p: UpstreamPool, name: string) => defineRoutes({ 'http:request': (req) => req.proxy(p), 'routes:close': (reason) => p.retire(reason) }, name);
    gw = await startProxyGateway((req) => req.proxy(first));
    gw.gateway.setRoutes([routes(first, 'first')]);
    const before = await openWs(gw.port);

    await gw.gateway.reload(gw.gateway.config, [routes(second, 'second')]);
    expect(await echoes(before, 'across the reload')).toBe(true);
    const after = await openWs(gw.port);
    expect(second.openTunnels).toBe(1);

    const closed = once(after, 'close');
    const oldClosed = once(before, 'close');
    const t0 = Date.now();
    const closing = gw.gateway.close({ grace: 5 });
    // The raw tunnel sends 1001 both ways; the ws client answers it and sees its TCP end.
    expect((await closed)[0]).toBe(1001);
    expect(Date.now() - t0).toBeLessThan(300);
    expect(second.shuttingDown).toBe(true);
    // The pool the reload retired is not told about the shutdown; the listener fallback ends its tunnel.
    await closing;
    await oldClosed;
    await until(() => second.openTunnels + first.openTunnels === 0, 3000, 'upstream sides closed');
    await first.close();
    gw = undefined;
  });
});
