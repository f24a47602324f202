/**
 * Nothing lost, nothing reordered: 100 MB of random bytes each way through a raw tunnel, compared by SHA-256
 * at both ends; then with a reader far slower than the writer, the gateway's buffers must stay bounded.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxyGateway, upgradeRequest, type ProxyGateway } from '@wsgate/test-kit';
import { upstream, type UpstreamPool } from '../../proxy/pool.js';
import { acceptKey } from '@wsgate/handshake';

const TOTAL = 100 * 1024 * 1024;
const CHUNK = 1024 * 1024;

/** Writes `total` random bytes with backpressure, then a FIN; resolves with their SHA-256. */
async function sendRandom(socket: net.Socket, total: number): Promise<string> {
  const hash = createHash('sha256');
  for (let sent = 0; sent < total; sent += CHUNK) {
    const chunk = randomBytes(Math.min(CHUNK, total - sent));
    hash.update(chunk);
    if (!socket.write(chunk)) await once(socket, 'drain');
  }
  socket.end();
  return hash.digest('hex');
}

/** Hashes everything read until the FIN; `pause` slows the reader down after every MiB. */
function receiveAll(socket: net.Socket, first: Buffer, pauseMs = 0): Promise<{ digest: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = first.length;
  hash.update(first);
  let sinceBreak = 0;
  return new Promise((resolve, reject) => {
    socket.on('data', (c: Buffer) => {
      hash.update(c);
      bytes += c.length;
      sinceBreak += c.length;
      if (pauseMs > 0 && sinceBreak >= CHUNK) {
        sinceBreak = 0;
        socket.pause();
        setTimeout(() => socket.resume(), pauseMs);
      }
    });
    socket.once('end', () => resolve({ digest: hash.digest('hex'), bytes }));
    socket.once('error', reject);
    socket.resume();
  });
}

/** A raw upstream: answers the handshake by hand, then hashes what it gets and sends its own random stream. */
function rawUpstream(sendBytes: number): { server: net.Server; results: Promise<{ received: { digest: string; bytes: number }; sent: string }>[] } {
  const results: Promise<{ received: { digest: string; bytes: number }; sent: string }>[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    results.push(
      new Promise((resolve, reject) => {
        let head = Buffer.alloc(0);
        const onHead = (c: Buffer) => {
          head = Buffer.concat([head, c]);
          const end = head.indexOf('\r\n\r\n');
          if (end < 0) return;
          socket.removeListener('data', onHead);
          const key = /sec-websocket-key: (\S+)/i.exec(head.toString('latin1'))![1]!;
          socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`);
          const received = receiveAll(socket, head.subarray(end + 4));
          Promise.all([received, sendRandom(socket, sendBytes)]).then(([r, sent]) => resolve({ received: r, sent }), reject);
        };
        socket.on('data', onHead);
      }),
    );
  });
  return { server, results };
}

async function openClient(port: number): Promise<{ socket: net.Socket; rest: Buffer }> {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  socket.write(upgradeRequest({ path: '/stream' }));
  let head = Buffer.alloc(0);
  for (;;) {
    const [c] = (await once(socket, 'data')) as [Buffer];
    head = Buffer.concat([head, c]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) continue;
    expect(head.toString('latin1', 0, 12)).toBe('HTTP/1.1 101');
    socket.pause();
    return { socket, rest: head.subarray(end + 4) };
  }
}

let up: ReturnType<typeof rawUpstream>;
let pool: UpstreamPool;
let gw: ProxyGateway;
const gatewaySides: net.Socket[] = [];

beforeAll(async () => {
  up = rawUpstream(TOTAL);
  up.server.listen(0, '127.0.0.1');
  await once(up.server, 'listening');
  pool = upstream(`ws://127.0.0.1:${(up.server.address() as net.AddressInfo).port}`);
  gw = await startProxyGateway((req) => {
    gatewaySides.push(req.raw.socket as net.Socket);
    return req.proxy(pool);
  });
});
afterAll(async () => {
  await pool.close();
  await gw.close();
  up.server.close();
});

describe('raw tunnel integrity', () => {
  it('relays 100 MB each way at once, byte for byte (SHA-256)', async () => {
    const { socket, rest } = await openClient(gw.port);
    const [received, sent] = await Promise.all([receiveAll(socket, rest), sendRandom(socket, TOTAL)]);
    const far = await up.results.at(-1)!;
    expect(far.received).toEqual({ digest: sent, bytes: TOTAL });
    expect(received).toEqual({ digest: far.sent, bytes: TOTAL });
  });

  it('keeps its buffers bounded when the client reads far slower than the upstream writes', async () => {
    const rssBefore = process.memoryUsage().rss;
    const { socket, rest } = await openClient(gw.port);
    const clientSide = gatewaySides.at(-1)!;
    let maxQueued = 0;
    const sampler = setInterval(() => (maxQueued = Math.max(maxQueued, clientSide.writableLength)), 5);
    let maxRss = 0;
    const rssSampler = setInterval(() => (maxRss = Math.max(maxRss, process.memoryUsage().rss)), 20);
    socket.end();
    const received = await receiveAll(socket, rest, 8);
    clearInterval(sampler);
    clearInterval(rssSampler);
    const far = await up.results.at(-1)!;
    expect(received).toEqual({ digest: far.sent, bytes: TOTAL });
    // The gateway holds at most a chunk or two for the slow side, never the stream.
    expect(maxQueued).toBeLessThan(2 * 1024 * 1024);
    expect(maxRss - rssBefore).toBeLessThan(64 * 1024 * 1024);
  });
});
