/**
 * Resident memory per idle connection: the server's anonymous RSS (after two full collections; pages mapped
 * from node's binary are left out, see server-child.ts; wsgate reads its own the same way through its
 * management API, `POST /memory/collect`: packages/core/src/management/process-memory.ts) with `connections`
 * open idle WebSockets, minus the same before them, divided by their number. A few hundred connections are
 * opened and closed first, so that code loaded and compiled on first use is not counted as connection memory.
 *
 * Both readings leave out the resident part of V8's young generation. V8 grows that reserve while
 * connections are being opened (up to 2 × 16 MiB), sized by the allocation rate, not by what stays live. It
 * gives it back once the process has idled for a few seconds; seen here: 32 MiB down to 1–2 MiB. So it is
 * not memory the idle connections hold. Counted in, it is up to 1.6 KiB "per connection" at 10,000, present
 * or not depending on how far the last semispace happened to be touched. V8 tells its committed size, not
 * its resident part, so the server touches all of it before each reading (server-child.ts); the subtraction
 * is then exact, where before it could take out pages that were never resident (±0.4 KiB per connection).
 *
 * With that, the server's wait for freed pages (server-child.ts) and a median of readings, a server's figure
 * stays within about ±0.2 KiB from run to run; before, it moved by ±1.5 KiB on the same server.
 */
import type net from 'node:net';
import { FrameReader, pongFrame } from '../frames.js';
import type { MeasuredServer } from '../servers.js';
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
  /** Bytes of RSS per connection, the young generation left out (see the module comment). */
  readonly rssPerConnection: number;
  /** Bytes of JS heap per connection. */
  readonly heapPerConnection: number;
  readonly rssBefore: number;
  readonly rssAfter: number;
  /** The young generation's resident bytes at each reading, for the record. */
  readonly youngBefore: number;
  readonly youngAfter: number;
}

export async function measureIdleMemory(
  server: Pick<MeasuredServer, 'mem'>,
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
      rssPerConnection: (after.rss - after.youngRss - (before.rss - before.youngRss)) / options.connections,
      heapPerConnection: (after.heapUsed - before.heapUsed) / options.connections,
      rssBefore: before.rss,
      rssAfter: after.rss,
      youngBefore: before.youngRss,
      youngAfter: after.youngRss,
    };
  } finally {
    await closeAll(sockets, 20_000);
  }
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
