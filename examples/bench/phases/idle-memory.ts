/**
 * Resident memory per idle connection: the server's RSS (after two full collections) with `connections` open
 * idle WebSockets, minus its RSS before them, divided by their number. A few hundred connections are opened and
 * closed first, so that code loaded and compiled on first use is not counted as connection memory.
 */
import type net from 'node:net';
import { FrameReader, pongFrame } from '../frames.js';
import type { ServerProcess } from '../servers.js';
import { sleep } from '../time.js';
import { closeAll, openMany, type Target } from '../ws-client.js';

export interface IdleMemoryOptions {
  readonly connections: number;
  /** Handshakes at a time while opening. */
  readonly concurrency: number;
  readonly warmupConnections: number;
  /** For opening all the connections. */
  readonly openTimeoutMs: number;
  /** Let the server settle (timers, buffers) before the measure. */
  readonly settleMs: number;
}

export interface IdleMemoryResult {
  /** Bytes of RSS per connection. */
  readonly rssPerConnection: number;
  /** Bytes of JS heap per connection. */
  readonly heapPerConnection: number;
  readonly rssBefore: number;
  readonly rssAfter: number;
}

export async function measureIdleMemory(
  server: ServerProcess,
  target: Target,
  localAddress: string,
  options: IdleMemoryOptions,
): Promise<IdleMemoryResult> {
  const warm = await openMany(target, localAddress, options.warmupConnections, options.concurrency, options.openTimeoutMs);
  await closeAll(warm, 5000);
  await sleep(options.settleMs);
  const before = await server.mem();

  let sockets: net.Socket[] = [];
  try {
    sockets = await openMany(target, localAddress, options.connections, options.concurrency, options.openTimeoutMs);
    for (const socket of sockets) {
      // Idle, but alive: a server's keepalive ping gets its pong.
      const reader = new FrameReader((payload) => socket.write(pongFrame(payload)));
      socket.on('data', (chunk: Buffer) => reader.push(chunk));
      socket.on('error', () => socket.destroy());
    }
    await sleep(options.settleMs);
    const open = sockets.filter((s) => !s.destroyed).length;
    if (open < sockets.length) throw new Error(`${sockets.length - open} idle connections were dropped by the server`);
    const after = await server.mem();
    return {
      rssPerConnection: (after.rss - before.rss) / options.connections,
      heapPerConnection: (after.heapUsed - before.heapUsed) / options.connections,
      rssBefore: before.rss,
      rssAfter: after.rss,
    };
  } finally {
    await closeAll(sockets, 20_000);
  }
}
