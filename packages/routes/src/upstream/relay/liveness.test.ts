/** Idle timeouts and gateway pings on real tunnels, raw and message mode, with short periods. */
import { once } from 'node:events';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { sleep, startProxyGateway, startUpstream, until, upgradeRequest, type Upstream } from '@wsgate/test-kit';
import { upstream } from '../../proxy/pool.js';

let up: Upstream;
const upstreamPings: number[] = [];
beforeAll(async () => {
  up = await startUpstream({
    onConnection: (ws) => {
      ws.on('ping', () => upstreamPings.push(Date.now()));
      ws.on('message', (d: Buffer) => ws.send(d));
    },
  });
});
afterAll(() => up.close());

async function openWs(port: number): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
  await once(ws, 'open');
  return ws;
}

describe('idle timeout', () => {
  it('closes a raw tunnel silent both ways for timeouts.websocket, not one with traffic', async () => {
    const pool = upstream(up.url, { timeouts: { websocket: 0.4 } });
    const gw = await startProxyGateway((req) => req.proxy(pool));
    const quiet = await openWs(gw.port);
    const busy = await openWs(gw.port);
    const quietClosed = once(quiet, 'close');
    const t0 = Date.now();
    const timer = setInterval(() => busy.send('x'), 100);
    // Told why, as a terminated WebSocket would be: 1001, not a dropped connection.
    expect((await quietClosed).map(String)).toEqual(['1001', 'Idle timeout']);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(350);
    expect(Date.now() - t0).toBeLessThan(1000);
    await sleep(300);
    expect(busy.readyState).toBe(WebSocket.OPEN);
    clearInterval(timer);
    expect(gw.logs.some((l) => l.msg === 'tunnel closed' && l.cause === 'idle timeout')).toBe(true);
    await pool.close();
    await gw.close();
  });
});

describe('pings from the gateway', () => {
  it('pings both sides of an idle raw tunnel, which then outlives the idle timeout', async () => {
    const pool = upstream(up.url, { timeouts: { websocket: 0.6 }, ping: { interval: 0.1, timeout: 0.3 } });
    const gw = await startProxyGateway((req) => req.proxy(pool));
    const ws = await openWs(gw.port);
    let clientPings = 0;
    ws.on('ping', () => clientPings++);
    upstreamPings.length = 0;
    await sleep(1000);
    expect(ws.readyState).toBe(WebSocket.OPEN);
    expect(clientPings).toBeGreaterThanOrEqual(3);
    expect(upstreamPings.length).toBeGreaterThanOrEqual(3);
    // Messages still go through, pings never cut into them.
    ws.send('after pings');
    expect(String((await once(ws, 'message'))[0])).toBe('after pings');
    ws.close();
    await pool.close();
    await gw.close();
  });

  it('closes a raw tunnel whose client stops answering', async () => {
    const pool = upstream(up.url, { ping: { interval: 0.1, timeout: 0.2 } });
    const gw = await startProxyGateway((req) => req.proxy(pool));
    const socket = net.connect(gw.port, '127.0.0.1');
    socket.write(upgradeRequest());
    await once(socket, 'data');
    // Reads (so the pings arrive) but never answers.
    const t0 = Date.now();
    await once(socket, 'close');
    expect(Date.now() - t0).toBeLessThan(1000);
    await until(() => gw.logs.some((l) => l.msg === 'tunnel closed'));
    expect(gw.logs.find((l) => l.msg === 'tunnel closed')?.cause).toBe('no answer to ping from the client');
    await pool.close();
    await gw.close();
  });

  it('pings in message mode too', async () => {
    const pool = upstream(up.url, { timeouts: { websocket: 0.5 }, ping: { interval: 0.1 } });
    const gw = await startProxyGateway((req) => req.proxy(pool.with({ onMessage: () => undefined })));
    const ws = await openWs(gw.port);
    let clientPings = 0;
    ws.on('ping', () => clientPings++);
    await sleep(800);
    expect(ws.readyState).toBe(WebSocket.OPEN);
    expect(clientPings).toBeGreaterThanOrEqual(3);
    const closed = once(ws, 'close');
    await pool.close();
    expect((await closed)[0]).toBe(1001);
    await gw.close();
  });
});
