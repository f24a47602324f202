/**
 * Closes the gateway starts on a proxied WebSocket (shutdown, close by id) reach both peers as close frames,
 * raw mode at a frame boundary, and the close code counted is the one on the wire, never 1006 for a normal end.
 */
import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { CloseInfo } from '@wsgate/core';
import { maskedFrame, sleep, startProxyGateway, startUpstream, until, upgradeRequest, type ProxyGateway, type Upstream } from '@wsgate/test-kit';
import { upstream, type UpstreamPool } from './pool.js';

const BIG = 16 * 1024 * 1024;

interface Closed {
  code: number;
  reason: string;
  at: number;
}

let up: Upstream | undefined;
let gw: ProxyGateway | undefined;
let pool: UpstreamPool | undefined;
let ends: CloseInfo[] = [];
afterEach(async () => {
  await pool?.close();
  await gw?.close();
  await up?.close();
  [up, gw, pool, ends] = [undefined, undefined, undefined, []];
});

/** An echoing `ws` upstream that answers `big` with one 16 MiB binary message; a gateway with a raw path and a message path. */
async function start(): Promise<{ gw: ProxyGateway; up: Upstream }> {
  up = await startUpstream({
    onConnection: (ws) => ws.on('message', (data: Buffer, isBinary) => (String(data) === 'big' ? ws.send(Buffer.alloc(BIG, 7)) : ws.send(data, { binary: isBinary }))),
  });
  pool = upstream(up.url, { maxMessageSize: 2 * BIG });
  const hooked = pool.with({ onMessage: () => undefined });
  gw = await startProxyGateway((req) => req.proxy(req.path.startsWith('/m') ? hooked : pool!));
  gw.gateway.connections.subscribe({ closed: (_c, info) => void ends.push(info) });
  return { gw, up };
}

function closeOf(ws: WebSocket): Promise<Closed> {
  return new Promise((resolve) => ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: String(reason), at: performance.now() })));
}

async function openPair(path: string, options: WebSocket.ClientOptions = {}): Promise<{ client: WebSocket; server: WebSocket }> {
  const client = new WebSocket(`ws://127.0.0.1:${gw!.port}${path}`, options);
  client.on('error', () => {});
  await once(client, 'open');
  await until(() => up!.sockets.size === 1 && gw!.gateway.connections.size === 1, 2000, 'tunnel open and listed');
  return { client, server: [...up!.sockets][0]! };
}

/** Waits until `value` has grown and then stays put for 100 ms (a reader stalled, its buffers full). */
async function stalled(value: () => number, what: string): Promise<void> {
  let last = -1;
  await until(async () => {
    const now = value();
    if (now > 64 * 1024 && now === last) return true;
    last = now;
    await sleep(100);
    return false;
  }, 5000, what);
}

const socketOf = (ws: WebSocket) => (ws as unknown as { _socket: net.Socket })._socket;

describe.each([
  ['raw', '/raw'],
  ['message', '/messages'],
])('a proxied WebSocket in %s mode', (_mode, path) => {
  it('gets a 1001 close frame on both sides when the gateway shuts down, and is counted as 1001', async () => {
    await start();
    const { client, server } = await openPair(path);
    const [clientClosed, serverClosed] = [closeOf(client), closeOf(server)];
    const t0 = performance.now();
    const closing = gw!.gateway.close({ grace: 2 });
    const [c, s] = await Promise.all([clientClosed, serverClosed]);
    await closing;
    const done = performance.now() - t0;
    expect([c.code, c.reason]).toEqual([1001, 'Going Away']);
    expect([s.code, s.reason]).toEqual([1001, 'Going Away']);
    // The closing handshake ran: both peers closed at once, long before the 2 s grace.
    expect(Math.max(c.at, s.at) - t0).toBeLessThan(500);
    expect(done).toBeLessThan(1000);
    expect(ends).toEqual([{ code: 1001, reason: 'Going Away', by: 'local' }]);
    gw = undefined;
  });

  it('finishes a 16 MiB message in flight each way before the 1001 close frame: whole or none, never a broken frame', async () => {
    await start();
    const { client, server } = await openPair(path);
    const toClient: number[] = [];
    const toServer: number[] = [];
    client.on('message', (d: Buffer) => void toClient.push(d.length));
    server.on('message', (d: Buffer) => void toServer.push(d.length));
    const [clientClosed, serverClosed] = [closeOf(client), closeOf(server)];
    // Both readers stall, so the shutdown finds both messages part way through the gateway.
    const counts = () => gw!.gateway.connections.list()[0]!.counts();
    socketOf(client).pause();
    client.send('big');
    await stalled(() => counts().bytesOut, 'the big message on its way to the client');
    socketOf(server).pause();
    client.send(Buffer.alloc(BIG, 9));
    await stalled(() => counts().bytesIn, 'the client message on its way upstream');
    // Raw mode counts what the gateway has written on: both messages are part way through.
    if (path === '/raw') expect([counts().bytesOut < BIG, counts().bytesIn < BIG]).toEqual([true, true]);
    const closing = gw!.gateway.close({ grace: 2 });
    await sleep(50);
    socketOf(client).resume();
    socketOf(server).resume();
    const [c, s] = await Promise.all([clientClosed, serverClosed]);
    await closing;
    expect(c.code).toBe(1001);
    expect(s.code).toBe(1001);
    // Raw mode relays each frame under way to its end; message mode may also drop a message it had not sent on.
    expect(path === '/raw' ? [[BIG]] : [[], [BIG]]).toContainEqual(toClient);
    expect(path === '/raw' ? [[3, BIG]] : [[3], [3, BIG]]).toContainEqual(toServer);
    gw = undefined;
  });

  it('counts a close the client starts with 1000 as 1000, in the directory and the metrics', async () => {
    await start();
    const { client, server } = await openPair(path);
    const serverClosed = closeOf(server);
    client.close(1000, 'bye');
    expect((await closeOf(client)).code).toBe(1000);
    expect((await serverClosed).code).toBe(1000);
    await until(() => ends.length === 1, 2000, 'entry removed');
    expect(ends).toEqual([{ code: 1000, reason: 'bye', by: 'remote' }]);
    expect(await gw!.gateway.metrics.registry.metrics()).toMatch(/wsgate_websocket_closes_total\{by="remote",code="1000"\} 1/);
  });

  it('close(id, 4000, "x") reaches both sides with that code and reason, and is counted so', async () => {
    await start();
    const { client, server } = await openPair(path);
    const [clientClosed, serverClosed] = [closeOf(client), closeOf(server)];
    expect(gw!.gateway.connections.close(gw!.gateway.connections.list()[0]!.id, 4000, 'x')).toBe(true);
    const [c, s] = await Promise.all([clientClosed, serverClosed]);
    expect([c.code, c.reason]).toEqual([4000, 'x']);
    expect([s.code, s.reason]).toEqual([4000, 'x']);
    await until(() => ends.length === 1, 2000, 'entry removed');
    expect(ends).toEqual([{ code: 4000, reason: 'x', by: 'local' }]);
  });
});

/** A raw WebSocket client past its 101: what it read since, and when the gateway's FIN came (0: not yet). */
async function openRawClient(port: number): Promise<{ socket: net.Socket; read: () => Buffer; endedAt: () => number }> {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  socket.on('error', () => {});
  socket.write(upgradeRequest());
  let data = Buffer.alloc(0);
  let endedAt = 0;
  socket.on('data', (c: Buffer) => void (data = Buffer.concat([data, c])));
  socket.once('end', () => (endedAt = performance.now()));
  await until(() => data.includes('\r\n\r\n'), 2000, '101');
  expect(data.toString('latin1', 0, 12)).toBe('HTTP/1.1 101');
  data = data.subarray(data.indexOf('\r\n\r\n') + 4);
  return { socket, read: () => data, endedAt: () => endedAt };
}

describe('the closing handshake of a raw tunnel', () => {
  it('ends the client only once it answers the close frame, and cuts one that never does when the grace ends', async () => {
    await start();
    const quiet = await openRawClient(gw!.port);
    const answering = await openRawClient(gw!.port);
    await until(() => up!.sockets.size === 2, 2000, 'both tunnels open');
    const t0 = performance.now();
    const closing = gw!.gateway.close({ grace: 0.6 });
    const closeFrame = Buffer.from([0x88, 0x0c, 0x03, 0xe9, ...Buffer.from('Going Away')]);
    await until(() => quiet.read().equals(closeFrame) && answering.read().equals(closeFrame), 1000, 'a 1001 close frame at each client');
    await sleep(150);
    // The gateway waits for the client's own close frame before it ends the TCP connection.
    expect(answering.endedAt()).toBe(0);
    const answered = performance.now();
    answering.socket.write(maskedFrame(0x8, Buffer.from([0x03, 0xe9])));
    await until(() => answering.endedAt() > 0, 1000, 'FIN after the answer');
    expect(answering.endedAt() - answered).toBeLessThan(250);
    expect(quiet.endedAt()).toBe(0);
    await closing;
    // The quiet one never answered: cut with the grace period, not held for ever.
    await until(() => quiet.endedAt() > 0 || quiet.socket.destroyed, 500, 'the quiet client cut');
    expect(performance.now() - t0).toBeLessThan(1500);
    expect(ends.map((e) => e.code)).toEqual([1001, 1001]);
    quiet.socket.destroy();
    answering.socket.destroy();
    gw = undefined;
  });
});
