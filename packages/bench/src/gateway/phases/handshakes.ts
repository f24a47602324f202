/**
 * Handshakes per second: `clients` loops, each one connect → upgrade request → 101 → close frame → the server
 * closes TCP → next. The server closing first keeps TIME_WAIT on its side, so our ephemeral ports recycle.
 */
import net from 'node:net';
import { busyPoll } from '../busy-poll.js';
import { CLOSE_FRAME } from '../frames.js';
import { runUntil, sleep } from '../time.js';
import { awaitUpgrade, type Target } from '../ws-client.js';
import type { SliceCount, SlicedLoad } from './slice.js';

export interface HandshakeOptions {
  readonly clients: number;
  /** Stops a window early past this many handshakes. */
  readonly maxCount: number;
  /** One cycle that takes longer than this is dropped and counted as an error. */
  readonly cycleTimeoutMs?: number;
  /** Keep the client's event loop from sleeping while the load runs (./busy-poll.ts): only for a pinned client. */
  readonly busyPoll?: boolean;
}

function noop(): void {}

export class HandshakeLoad implements SlicedLoad {
  errors = 0;
  firstError: string | undefined;
  private running = false;
  private counting = false;
  private count = 0;
  private active = 0;
  /** Bumped by each run, so that a retry left over from an earlier slice does not add a client. */
  private generation = 0;

  constructor(
    private readonly target: Target,
    private readonly localAddress: string,
    private readonly options: HandshakeOptions,
  ) {}

  async run(rampMs: number, windowMs: number): Promise<SliceCount> {
    this.running = true;
    const stopPolling = this.options.busyPoll ? busyPoll() : undefined;
    const generation = ++this.generation;
    for (let i = 0; i < this.options.clients; i++) this.cycle(generation);
    await sleep(rampMs);
    const t0 = performance.now();
    this.count = 0;
    this.counting = true;
    await runUntil(windowMs, () => this.count >= this.options.maxCount);
    this.counting = false;
    this.running = false;
    stopPolling?.();
    const slice = { count: this.count, bytes: 0, seconds: (performance.now() - t0) / 1000 };
    // Cycles end by themselves, each bounded by its timeout.
    await runUntil((this.options.cycleTimeoutMs ?? 5000) + 1000, () => this.active === 0, 5);
    return slice;
  }

  close(): Promise<void> {
    this.running = false;
    return Promise.resolve();
  }

  private failed(why: string): void {
    this.errors++;
    this.firstError ??= why;
  }

  private cycle(generation: number): void {
    if (!this.running || generation !== this.generation) return;
    this.active++;
    const socket = net.connect({ host: '127.0.0.1', port: this.target.port, localAddress: this.localAddress, noDelay: true });
    let upgraded = false;
    let serverClosed = false;
    socket.setTimeout(this.options.cycleTimeoutMs ?? 5000, () => {
      this.failed('a handshake cycle timed out');
      upgraded = false;
      socket.destroy();
    });
    socket.once('connect', () => socket.write(this.target.request));
    awaitUpgrade(socket, (err) => {
      if (err) {
        this.failed(err.message);
        socket.destroy();
        return;
      }
      upgraded = true;
      socket.on('data', noop);
      socket.once('end', () => (serverClosed = true));
      socket.write(CLOSE_FRAME);
    });
    socket.on('error', noop);
    socket.once('close', () => {
      this.active--;
      if (upgraded && serverClosed) {
        if (this.counting) this.count++;
      } else if (upgraded) {
        this.failed('the server did not close after the close frame');
      }
      // A failing server must not turn this into a busy loop.
      if (upgraded) this.cycle(generation);
      else setTimeout(() => this.cycle(generation), 10);
    });
  }
}
