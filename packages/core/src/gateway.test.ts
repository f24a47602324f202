import net from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { maskedFrame, rawExchange, sleep, startTestGateway, until, upgradeRequest, type TestGateway } from '@wsgate/test-kit';
import type { CloseInfo, Connection } from './connections/connection.js';
import { HttpError } from './errors.js';
import { resolveConfig } from './config/load.js';
import { defineRoutes } from './script/routes.js';

const echoRoutes = defineRoutes(
  {
    'http:request'(req) {
      if (req.path === '/boom') throw new Error('script bug');
      if (req.path === '/teapot') throw new HttpError(418, 'Short and stout');
      if (req.path === '/hello') {
        if (req.query.get('close') === '1') req.setReplyClose();
        return req.reply(200, 'OK', 'text/plain', `hello from ${req.port}`);
      }
      if (req.isWebSocketUpgrade) {
        req.set('user', req.query.get('user') ?? 'anonymous');
        return req.handshake({ protocols: ['echo', 'sip'], maxPayload: 1024 });
      }
      return req.next();
    },
    'websocket:message'(conn, data, isBinary) {
      if (data.toString() === 'throw') throw new Error('message route bug');
      conn.send(data, { binary: isBinary });
    },
  },
  'echo',
);

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

function openClient(url: string, protocols: string | string[] = 'echo', options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  const ws = new WebSocket(url, protocols, options);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

describe('terminated WebSockets', () => {
  it('upgrades, negotiates the subprotocol and echoes text as text and binary as binary', async () => {
    gw = await startTestGateway(echoRoutes);
    const ws = await openClient(gw.url, ['sip']);
    expect(ws.protocol).toBe('sip');
    ws.send('hello');
    const [text, textIsBinary] = await once(ws, 'message');
    expect(text.toString()).toBe('hello');
    expect(textIsBinary).toBe(false);
    ws.send(Buffer.from([0, 1, 2, 255]));
    const [bin, binIsBinary] = await once(ws, 'message');
    expect([...bin]).toEqual([0, 1, 2, 255]);
    expect(binIsBinary).toBe(true);
    ws.close();
  });

  it('registers connections with the request attributes and closes one by id', async () => {
    const closed: CloseInfo[] = [];
    const opened: Connection[] = [];
    gw = await startTestGateway([
      echoRoutes,
      defineRoutes({ 'websocket:open': (c) => void opened.push(c), 'websocket:closed': (_c, info) => void closed.push(info) }),
    ]);
    const ws = await openClient(`${gw.url}/room?user=alice`);
    await until(() => opened.length === 1, 2000, 'open event');
    const [conn] = gw.gateway.connections.list();
    expect(conn?.get('user')).toBe('alice');
    expect(conn?.protocol).toBe('echo');
    expect(conn?.path).toBe('/room');
    expect(conn?.remoteAddress).toBe('127.0.0.1');
    expect(gw.gateway.connections.get(conn!.id)).toBe(conn);
    const clientClosed = once(ws, 'close');
    expect(gw.gateway.connections.close(conn!.id, 4000, 'bye')).toBe(true);
    const [code, reason] = await clientClosed;
    expect(code).toBe(4000);
    expect(reason.toString()).toBe('bye');
    await until(() => closed.length === 1, 2000, 'closed event');
    expect(closed[0]).toEqual({ code: 4000, reason: 'bye', by: 'local' });
    expect(gw.gateway.connections.size).toBe(0);
    expect(gw.gateway.connections.close(conn!.id)).toBe(false);
  });

  it('reports a close by the peer as remote, with its code', async () => {
    const closed: CloseInfo[] = [];
    gw = await startTestGateway([echoRoutes, defineRoutes({ 'websocket:closed': (_c, info) => void closed.push(info) })]);
    const ws = await openClient(gw.url);
    ws.close(4001, 'client leaves');
    await until(() => closed.length === 1, 2000, 'closed event');
    expect(closed[0]).toEqual({ code: 4001, reason: 'client leaves', by: 'remote' });
  });

  it('closes with 1009 a message larger than maxPayload, told as the gateway\'s close and logged', async () => {
    const closed: CloseInfo[] = [];
    gw = await startTestGateway([echoRoutes, defineRoutes({ 'websocket:closed': (_c, info) => void closed.push(info) })]);
    const ws = await openClient(gw.url);
    ws.send(Buffer.alloc(2048));
    const [code] = await once(ws, 'close');
    expect(code).toBe(1009);
    await until(() => closed.length === 1, 2000, 'closed event');
    // The server stops reading once it has sent its 1009, so it hears no close frame back: 1006, by the gateway.
    expect(closed[0]).toMatchObject({ code: 1006, reason: 'Max payload size exceeded', by: 'local' });
    expect(gw.logs.some((l) => l.msg === 'websocket protocol error')).toBe(true);
  });

  it("passes every event on to listeners a script adds to conn.ws, after the gateway's own routes", async () => {
    const seen: string[] = [];
    const scripted = defineRoutes({
      'websocket:open'(conn) {
        conn.ws.on('message', (data: Buffer) => seen.push(`listener: ${data.toString()}`));
        conn.ws.on('error', (err: Error) => seen.push(`error: ${err.message}`));
        conn.ws.on('close', (code: number) => seen.push(`close: ${code}`));
      },
      'websocket:message'(_conn, data) {
        seen.push(`route: ${data.toString()}`);
      },
    });
    gw = await startTestGateway([echoRoutes, scripted]);
    const ws = await openClient(gw.url);
    ws.send('hello');
    await until(() => seen.length === 2, 2000, 'message seen twice');
    expect(seen).toEqual(['route: hello', 'listener: hello']);
    ws.send(Buffer.alloc(2048));
    await until(() => seen.some((x) => x.startsWith('close')), 2000, 'close seen');
    expect(seen.slice(2)).toEqual(['error: Max payload size exceeded', 'close: 1006']);
  });

  it('keeps going when a message route throws, and logs it', async () => {
    gw = await startTestGateway(echoRoutes);
    const ws = await openClient(gw.url);
    ws.send('throw');
    ws.send('still here');
    const [data] = await once(ws, 'message');
    expect(data.toString()).toBe('still here');
    expect(gw.logs.some((l) => l.msg === 'websocket route threw' && l.route === 'echo')).toBe(true);
    ws.close();
  });

  it('delivers a frame sent in the same packet as the upgrade request', async () => {
    gw = await startTestGateway(echoRoutes);
    const socket = net.connect(gw.port, '127.0.0.1');
    await once(socket, 'connect');
    let received = Buffer.alloc(0);
    socket.on('data', (c: Buffer) => (received = Buffer.concat([received, c])));
    socket.write(Buffer.concat([Buffer.from(upgradeRequest({ host: `127.0.0.1:${gw.port}`, extra: ['Sec-WebSocket-Protocol: echo'] })), maskedFrame(0x1, 'early bird')]));
    await until(() => received.includes('early bird'), 3000, 'echoed frame');
    const text = received.toString('latin1');
    expect(text).toMatch(/^HTTP\/1\.1 101 /);
    expect(text).toContain('Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    socket.destroy();
  });

  it('pings idle peers and drops one whose pong never comes', async () => {
    const closed: CloseInfo[] = [];
    gw = await startTestGateway([echoRoutes, defineRoutes({ 'websocket:closed': (_c, info) => void closed.push(info) })], {
      keepalive: { mechanism: 'ping', interval: 0.1, timeout: 0.2 },
    });
    const alive = await openClient(gw.url);
    const silent = await openClient(gw.url, 'echo', { autoPong: false });
    let pings = 0;
    silent.on('ping', () => pings++);
    await until(() => closed.length === 1, 3000, 'silent peer dropped');
    expect(pings).toBeGreaterThan(0);
    expect(closed[0]).toMatchObject({ code: 1006, reason: 'keepalive timeout', by: 'local' });
    expect(silent.readyState).not.toBe(WebSocket.OPEN);
    await sleep(400);
    expect(alive.readyState).toBe(WebSocket.OPEN);
    alive.close();
  });
  it('pings a connection when its peer has been silent for the interval, by its own clock', async () => {
    gw = await startTestGateway(echoRoutes, { keepalive: { mechanism: 'ping', interval: 0.3, timeout: 1 } });
    const pingsAt = (ws: WebSocket, since: number) => {
      const at: number[] = [];
      ws.on('ping', () => at.push(Date.now() - since));
      return at;
    };
    const t0 = Date.now();
    const talker = await openClient(gw.url);
    const early = await openClient(gw.url);
    const talkerPings = pingsAt(talker, t0);
    const earlyPings = pingsAt(early, t0);
    await sleep(150);
    const t1 = Date.now();
    const late = await openClient(gw.url);
    const latePings = pingsAt(late, t1);
    // The talker's messages are signs of life: no keepalive while they come.
    const chatter = setInterval(() => talker.send('still here'), 50);
    await sleep(500);
    clearInterval(chatter);
    expect(talkerPings).toEqual([]);
    await until(() => earlyPings.length > 0 && latePings.length > 0, 2000, 'pings to the silent two');
    // The other two, each about an interval after its own open (the sweep ticks every 30 ms here; slack for a loaded machine).
    expect(earlyPings[0]).toBeGreaterThanOrEqual(290);
    expect(earlyPings[0]).toBeLessThan(700);
    expect(latePings[0]).toBeGreaterThanOrEqual(290);
    expect(latePings[0]).toBeLessThan(700);
    // Silent now, the talker gets its ping an interval after its last message.
    await until(() => talkerPings.length > 0, 1000, 'ping to the talker once it fell silent');
    for (const ws of [talker, early, late]) ws.close();
  });

  it('drops silent peers opened before a reload that turns ping keepalive on, and none once it is off', async () => {
    const closed: CloseInfo[] = [];
    const routes = [echoRoutes, defineRoutes({ 'websocket:closed': (_c, info) => void closed.push(info) })];
    gw = await startTestGateway(routes, { keepalive: { mechanism: 'none' } });
    const alive = await openClient(gw.url);
    const silent = await openClient(gw.url, 'echo', { autoPong: false });
    const pinging = (mechanism: string) => resolveConfig({ listeners: [{ host: '127.0.0.1', port: 0 }], keepalive: { mechanism, interval: 0.1, timeout: 0.2 } }, process.cwd());
    await gw.gateway.reload(pinging('ping'), routes);
    // Opened before the reload: the answering one is heard, the silent one dropped.
    await until(() => closed.length === 1, 3000, 'silent peer dropped');
    expect(closed[0]).toMatchObject({ reason: 'keepalive timeout', by: 'local' });
    expect(silent.readyState).not.toBe(WebSocket.OPEN);
    await sleep(400);
    expect(alive.readyState).toBe(WebSocket.OPEN);
    await gw.gateway.reload(pinging('pong'), routes);
    const quiet = await openClient(gw.url, 'echo', { autoPong: false });
    await sleep(400);
    expect([alive.readyState, quiet.readyState]).toEqual([WebSocket.OPEN, WebSocket.OPEN]);
    alive.close();
    quiet.close();
  });
});

describe('handshake errors on real sockets', () => {
  it('answers a bad key with 400 and closes the socket', async () => {
    gw = await startTestGateway(echoRoutes);
    const { text, closed } = await rawExchange(gw.port, upgradeRequest({ host: `127.0.0.1:${gw.port}`, extra: ['Sec-WebSocket-Key: c2hvcnQ=', 'Sec-WebSocket-Protocol: echo'], omit: ['sec-websocket-key'] }));
    expect(text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(text).toMatch(/Sec-WebSocket-Key/);
    expect(closed).toBe(true);
  });

  it('answers a missing key with 400', async () => {
    gw = await startTestGateway(echoRoutes);
    const { text } = await rawExchange(gw.port, upgradeRequest({ host: `127.0.0.1:${gw.port}`, extra: ['Sec-WebSocket-Protocol: echo'], omit: ['sec-websocket-key'] }));
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
  });

  it('answers a wrong version with 426 and Sec-WebSocket-Version: 13', async () => {
    gw = await startTestGateway(echoRoutes);
    const { text, closed } = await rawExchange(gw.port, upgradeRequest({ host: `127.0.0.1:${gw.port}`, extra: ['Sec-WebSocket-Version: 8', 'Sec-WebSocket-Protocol: echo'], omit: ['sec-websocket-version'] }));
    expect(text).toMatch(/^HTTP\/1\.1 426 Upgrade Required\r\n/);
    expect(text).toMatch(/\r\nSec-WebSocket-Version: 13\r\n/i);
    expect(closed).toBe(true);
  });

  it('refuses duplicated Sec-WebSocket-Key headers with 400', async () => {
    gw = await startTestGateway(echoRoutes);
    const { text } = await rawExchange(gw.port, upgradeRequest({ host: `127.0.0.1:${gw.port}`, extra: ['Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA==', 'Sec-WebSocket-Protocol: echo'] }));
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
  });

  it('refuses an unsupported subprotocol with 400 naming the supported ones', async () => {
    gw = await startTestGateway(echoRoutes);
    const { text } = await rawExchange(gw.port, upgradeRequest({ host: `127.0.0.1:${gw.port}`, extra: ['Sec-WebSocket-Protocol: chat'] }));
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(text).toMatch(/Sec-WebSocket-Protocol: echo, sip/i);
  });
});

describe('malformed HTTP on real sockets', () => {
  it('answers garbage bytes with 400 and closes', async () => {
    gw = await startTestGateway(echoRoutes);
    const { text, closed } = await rawExchange(gw.port, Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x0d, 0x0a, 0x0d, 0x0a]));
    expect(text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(closed).toBe(true);
  });

  it('answers an oversized request head with 431', async () => {
    gw = await startTestGateway(echoRoutes, { limits: { maxHeaderSize: 4096 } });
    const { text, closed } = await rawExchange(gw.port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(8000)}\r\n\r\n`);
    expect(text).toMatch(/^HTTP\/1\.1 431 /);
    expect(text).toContain('larger than 4096 bytes');
    expect(closed).toBe(true);
  });

  it('answers a half-sent request with 408 once the header timeout passes', async () => {
    gw = await startTestGateway(echoRoutes, { limits: { headerTimeout: 0.3 } });
    const started = Date.now();
    const { text, closed } = await rawExchange(gw.port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ', { timeoutMs: 4000 });
    expect(closed).toBe(true);
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it('answers an HTTP/1.1 request without Host with 400', async () => {
    gw = await startTestGateway(echoRoutes);
    const { text } = await rawExchange(gw.port, 'GET /hello HTTP/1.1\r\n\r\n');
    expect(text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(text).toContain('Host header');
  });
});

describe('connection limit', () => {
  it('drops connections beyond maxConnections, logs it, and serves again once one closes', async () => {
    gw = await startTestGateway(echoRoutes, { limits: { maxConnections: 2 } });
    const first = await openClient(gw.url);
    const second = await openClient(gw.url);
    await expect(openClient(gw.url)).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(gw.logs.some((l) => l.msg === 'connection refused: maxConnections reached')).toBe(true);
    first.close();
    await once(first, 'close');
    await until(() => gw!.gateway.connections.size === 1, 2000, 'first gone');
    const third = await openClient(gw.url);
    expect(third.readyState).toBe(WebSocket.OPEN);
    second.close();
    third.close();
  });
});

describe('HTTP replies', () => {
  it('keeps the connection for the next request unless the route set reply-close', async () => {
    gw = await startTestGateway(echoRoutes);
    const keep = await rawExchange(gw.port, 'GET /hello HTTP/1.1\r\nHost: a\r\n\r\nGET /hello?close=1 HTTP/1.1\r\nHost: a\r\n\r\n');
    const answers = keep.text.match(/HTTP\/1\.1 200 OK/g) ?? [];
    expect(answers).toHaveLength(2);
    expect(keep.text).toContain(`hello from ${gw.port}`);
    expect(keep.text).toMatch(/Connection: close/i);
    expect(keep.closed).toBe(true);
  });

  it('answers 404 Not found when every route passes', async () => {
    gw = await startTestGateway(echoRoutes);
    const res = await fetch(`http://127.0.0.1:${gw.port}/nowhere`);
    expect(res.status).toBe(404);
    expect(res.statusText).toBe('Not found');
  });

  it('turns a route exception into 500 and a log line, and goes on', async () => {
    gw = await startTestGateway(echoRoutes);
    const res = await fetch(`http://127.0.0.1:${gw.port}/boom`);
    expect(res.status).toBe(500);
    expect(gw.logs.some((l) => l.msg === 'route threw; answered 500' && l.route === 'echo')).toBe(true);
    const again = await fetch(`http://127.0.0.1:${gw.port}/hello`);
    expect(again.status).toBe(200);
  });

  it('turns an HttpError into its status and reason', async () => {
    gw = await startTestGateway(echoRoutes);
    const res = await fetch(`http://127.0.0.1:${gw.port}/teapot`);
    expect(res.status).toBe(418);
    expect(await res.text()).toBe('Short and stout\n');
  });
});

describe('graceful shutdown', () => {
  it('closes WebSockets with 1001, refuses new connections and finishes within the grace period', async () => {
    gw = await startTestGateway(echoRoutes);
    const ws = await openClient(gw.url);
    const closing = once(ws, 'close');
    const started = Date.now();
    await gw.gateway.close({ grace: 2 });
    const [code] = await closing;
    expect(code).toBe(1001);
    expect(Date.now() - started).toBeLessThan(2000);
    await expect(openClient(gw.url)).rejects.toThrow(/ECONNREFUSED/);
    gw = undefined;
  });

  it('drops a peer that ignores the close frame once the grace period is over', async () => {
    gw = await startTestGateway(echoRoutes);
    const socket = net.connect(gw.port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write(upgradeRequest({ host: `127.0.0.1:${gw.port}`, extra: ['Sec-WebSocket-Protocol: echo'] }));
    await once(socket, 'data');
    socket.on('data', () => {}); // reads the close frame, never answers it
    const started = Date.now();
    await gw.gateway.close({ grace: 0.3 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(Date.now() - started).toBeLessThan(2000);
    await until(() => socket.destroyed || socket.readableEnded, 2000, 'socket closed');
    socket.destroy();
    gw = undefined;
  });
});

describe('routes:close', () => {
  it('tells a retired route set why: reload (the new set has taken over) or shutdown, with the grace period', async () => {
    const calls: string[] = [];
    const first = defineRoutes({ 'http:request': (req) => req.reply(200, 'OK', 'text/plain', 'first'), 'routes:close': (why, grace) => void calls.push(`first:${why}:${grace}`) }, 'first');
    const second = defineRoutes({
      'http:request': (req) => req.reply(200, 'OK', 'text/plain', 'second'),
      'routes:close': async (why) => {
        await sleep(20);
        calls.push(`second:${why}`);
      },
    }, 'second');
    gw = await startTestGateway(first);
    await gw.gateway.reload(gw.gateway.config, [second]);
    expect(calls).toEqual(['first:reload:5']);
    expect(await (await fetch(`http://127.0.0.1:${gw.port}/`)).text()).toBe('second');
    await gw.gateway.close({ grace: 1 });
    expect(calls.sort()).toEqual(['first:reload:5', 'first:shutdown:1', 'second:shutdown']);
    gw = undefined;
  });
});
