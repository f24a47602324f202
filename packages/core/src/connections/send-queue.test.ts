/**
 * What the gateway owes a client is capped (`limits.sendQueue`): over the pause mark it stops reading from the
 * client, past the close mark or the timeout it closes it with 1008, and `conn.send()` says when a connection
 * is over. Real sockets: a raw client that completes the handshake and then never reads, beside a normal one.
 */
import net from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { maskedFrame, sleep, startTestGateway, until, upgradeRequest, type TestGateway } from '@wsgate/test-kit';
import type { CloseInfo } from './connection.js';
import { resolveConfig } from '../config/load.js';
import { defineRoutes } from '../script/routes.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** What the routes saw: conn.send()'s answers, the most a connection was owed, and the closes. */
interface Seen {
  maxQueued: number;
  refused: number;
  firstRefusedAt: number;
  closed: (CloseInfo & { id: number; at: number })[];
}
const newSeen = (): Seen => ({ maxQueued: 0, refused: 0, firstRefusedAt: 0, closed: [] });

/** The sample gateway's echo route, watched. */
function echoRoutes(seen: Seen) {
  return defineRoutes({
    'http:request': (req) => (req.isWebSocketUpgrade ? req.handshake({ protocols: ['echo'] }) : req.next()),
    'websocket:message'(conn, data, isBinary) {
      const ok = conn.send(data, { binary: isBinary });
      if (conn.bufferedAmount > seen.maxQueued) seen.maxQueued = conn.bufferedAmount;
      if (ok === false && seen.refused++ === 0) seen.firstRefusedAt = Date.now();
    },
    'websocket:closed'(conn, info) {
      seen.closed.push({ ...info, id: conn.id, at: Date.now() });
    },
  });
}

let gw: TestGateway | undefined;
let control: TestGateway | undefined;
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all([gw?.close(), control?.close()]);
  gw = control = undefined;
});

/** A raw client that completes the handshake for `echo`, then reads nothing more. */
async function nonReadingClient(port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  sockets.push(socket);
  socket.on('error', () => {}); // the gateway's close resets it
  await once(socket, 'connect');
  socket.write(upgradeRequest({ host: `127.0.0.1:${port}`, extra: ['Sec-WebSocket-Protocol: echo'] }));
  let head = '';
  await new Promise<void>((resolve) => {
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      socket.pause();
      resolve();
    };
    socket.on('data', onData);
  });
  expect(head).toMatch(/^HTTP\/1\.1 101 /);
  return socket;
}

/**
 * Writes `frame` until `total` bytes are written, waiting for 'drain' as a well-behaved sender does; gives up
 * when no drain comes for `stallMs` (the gateway stopped reading: `stalled`) or the socket closes.
 */
async function pump(socket: net.Socket, frame: Buffer, total: number, stallMs = 500): Promise<{ written: number; stalled: boolean }> {
  let written = 0;
  while (written < total && !socket.destroyed) {
    written += frame.length;
    if (socket.write(frame)) continue;
    const drained = await new Promise<boolean>((resolve) => {
      const done = (value: boolean) => {
        clearTimeout(timer);
        socket.off('drain', onDrain);
        socket.off('close', onClose);
        resolve(value);
      };
      const onDrain = () => done(true);
      const onClose = () => done(false);
      const timer = setTimeout(() => done(false), stallMs);
      socket.on('drain', onDrain);
      socket.on('close', onClose);
    });
    if (!drained) return { written, stalled: !socket.destroyed };
  }
  return { written, stalled: false };
}

function openClient(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url, 'echo');
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/**
 * Echo rates of two normal clients, 64 B round trips one after another, per second: slices of 100 ms taken
 * in turn, the best of five each, so that both meet the same load from elsewhere on the machine.
 */
async function echoRates(a: WebSocket, b: WebSocket): Promise<[number, number]> {
  const payload = Buffer.alloc(64, 1);
  const best = [0, 0] as [number, number];
  for (let slice = 0; slice < 10; slice++) {
    const ws = slice % 2 === 0 ? a : b;
    const end = Date.now() + 100;
    let n = 0;
    for (; Date.now() < end; n++) {
      ws.send(payload);
      await once(ws, 'message');
    }
    best[slice % 2] = Math.max(best[slice % 2]!, n * 10);
  }
  return best;
}

const metric = async (name: string) => (await gw!.gateway.metrics.registry.getSingleMetricAsString(name)) ?? '';

describe('limits.sendQueue: a client that sends but never reads', () => {
  it('is no longer read from over the pause mark, is owed at most that and one read, and is closed with 1008 after the timeout; a normal client keeps its speed', async () => {
    const seen = newSeen();
    gw = await startTestGateway(echoRoutes(seen), { limits: { sendQueue: { timeout: 3 } }, keepalive: { mechanism: 'none' } });
    // A normal client here, and one on a gateway of its own for comparison.
    control = await startTestGateway(echoRoutes(newSeen()));
    const [normal, alone] = await Promise.all([openClient(gw.url), openClient(control.url)]);
    await echoRates(normal, alone); // warm-up
    const rss = process.memoryUsage().rss;

    const slow = await nonReadingClient(gw.port);
    const attempted = 200 * MiB;
    const { written, stalled } = await pump(slow, maskedFrame(0x2, Buffer.alloc(4000, 7)), attempted);
    const grown = process.memoryUsage().rss - rss;
    const [beside, unshared] = await echoRates(normal, alone);
    console.info(
      `non-reading client: ${(written / MiB).toFixed(1)} of ${attempted / MiB} MiB taken before its writes backed up; ` +
        `most owed ${(seen.maxQueued / KiB).toFixed(0)} KiB; RSS +${(grown / MiB).toFixed(1)} MiB; ` +
        `meanwhile a normal client beside it ${beside}/s, one on a gateway of its own ${unshared}/s`,
    );
    // The client's own writes back up: the gateway stopped reading from it.
    expect(stalled).toBe(true);
    expect(written).toBeLessThan(32 * MiB);
    // The default pause mark (1 MiB), then the answers to the rest of the read that crossed it: a read of the
    // socket is 64 KiB at most, and it may end a message begun in the one before.
    expect(seen.maxQueued).toBeLessThanOrEqual(MiB + 64 * KiB + 4004);
    expect(grown).toBeLessThan(64 * MiB);
    expect(seen.refused).toBeGreaterThan(0);
    expect(seen.closed).toEqual([]);
    expect(beside).toBeGreaterThan(unshared / 2);

    await until(() => seen.closed.length === 1, 5000, 'the non-reading client closed');
    const [close] = seen.closed;
    console.info(`non-reading client closed ${close!.at - seen.firstRefusedAt} ms after its first refused send (timeout 3 s)`);
    expect(close).toMatchObject({ code: 1008, reason: 'send queue over limit', by: 'local' });
    // Over the mark since its first refused send; the sweep ticks every 0.3 s at this timeout.
    expect(close!.at - seen.firstRefusedAt).toBeGreaterThanOrEqual(3000);
    expect(close!.at - seen.firstRefusedAt).toBeLessThan(3000 + 600);
    await until(() => slow.destroyed || slow.readableEnded, 2000, 'the client socket closed');
    expect(await metric('wsgate_websocket_closes_total')).toMatch(/\{by="local",code="1008"\} 1$/m);
    expect(await metric('wsgate_websocket_send_queue_closes_total')).toMatch(/\{limit="timeout"\} 1$/m);
    const line = gw.logs.find((l) => l.msg === 'websocket send queue over limit: closed');
    expect(line).toMatchObject({ level: 40, conn: close!.id, limit: 'timeout', pause: MiB, close: 16 * MiB, timeout: 3 });
    expect(line!.queued).toBeGreaterThan(0);
    expect(line!.seconds).toBeGreaterThanOrEqual(3);
    expect(normal.readyState).toBe(WebSocket.OPEN);
    normal.close();
    alone.close();
  }, 30_000);

  it('is read from again once it catches up, and stays open past the timeout', async () => {
    const seen = newSeen();
    gw = await startTestGateway(echoRoutes(seen), { limits: { sendQueue: { pause: 64 * KiB, timeout: 1 } }, keepalive: { mechanism: 'none' } });
    const slow = await nonReadingClient(gw.port);
    const frame = maskedFrame(0x2, Buffer.alloc(4000, 7)); // echoed as 4004 bytes
    const first = await pump(slow, frame, 16 * MiB, 300);
    expect(first.stalled).toBe(true);
    expect(seen.refused).toBeGreaterThan(0);

    // It reads now: what it was owed arrives, and the gateway reads what it had held back.
    let received = 0;
    slow.on('data', (chunk: Buffer) => (received += chunk.length));
    slow.resume();
    const second = await pump(slow, frame, 4 * MiB, 1000);
    expect(second.stalled).toBe(false);
    const echoed = ((first.written + second.written) / frame.length) * 4004;
    await until(() => received === echoed, 5000, 'every message echoed');
    await sleep(1300);
    expect(seen.closed).toEqual([]);
    expect(slow.destroyed).toBe(false);
  }, 30_000);

  it('is closed at once with 1008 when a route queues past the close mark; over the pause mark both sends answer false; a reload applies at once', async () => {
    const seen = newSeen();
    const answers: { ok: boolean; byId: boolean; state: string }[] = [];
    const chunk = Buffer.alloc(64 * KiB);
    const flood = defineRoutes({
      'websocket:message'(conn) {
        // Answers to a small message are held until the tick ends: all of these are queued at once.
        for (let i = 0; i < 24; i++) {
          const ok = conn.send(chunk);
          answers.push({ ok, byId: gw!.gateway.connections.send(conn.id, 'x') as boolean, state: conn.state });
        }
      },
    });
    const routes = [flood, echoRoutes(seen)];
    gw = await startTestGateway(routes);
    const slow = await nonReadingClient(gw.port);
    // Opened under the defaults: the reload's limits apply to it from now on.
    const limits = { sendQueue: { pause: 256 * KiB, close: MiB } };
    await gw.gateway.reload(resolveConfig({ listeners: [{ host: '127.0.0.1', port: 0 }], limits }, process.cwd()), routes);
    slow.write(maskedFrame(0x1, 'flood'));
    await until(() => seen.closed.length === 1, 3000, 'the flooded client closed');

    // 64 KiB and 4 bytes of header a message: the fourth passes 256 KiB, the sixteenth 1 MiB.
    expect(answers.slice(0, 3)).toEqual(Array(3).fill({ ok: true, byId: true, state: 'open' }));
    expect(answers.slice(3, 15)).toEqual(Array(12).fill({ ok: false, byId: false, state: 'open' }));
    expect(answers[15]).toEqual({ ok: false, byId: false, state: 'closing' });
    expect(answers.slice(16).every((a) => !a.ok && !a.byId)).toBe(true);
    expect(seen.closed[0]).toMatchObject({ code: 1008, reason: 'send queue over limit', by: 'local' });
    await until(() => slow.destroyed || slow.readableEnded, 2000, 'the client socket closed');
    expect(await metric('wsgate_websocket_send_queue_closes_total')).toMatch(/\{limit="close"\} 1$/m);
    expect(gw.logs.find((l) => l.msg === 'websocket send queue over limit: closed')).toMatchObject({ limit: 'close', close: MiB });
  });
});
