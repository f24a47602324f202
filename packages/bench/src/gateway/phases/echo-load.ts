/**
 * Messages (and bytes) per second: `connections` WebSockets, each keeping `inFlight` copies of one prebuilt
 * frame outstanding; every answer received is replaced at once by a new frame. Used for the 64 B and 64 KiB
 * echo figures and for SIP OPTIONS.
 */
import type net from 'node:net';
import { FrameReader, frameBatches, pongFrame } from '../frames.js';
import { runUntil, sleep } from '../time.js';
import { closeAll, openMany, type Target } from '../ws-client.js';
import type { SliceCount, SlicedLoad } from './slice.js';

export interface EchoLoadOptions {
  readonly connections: number;
  readonly inFlight: number;
  /** The masked client frame every connection sends over and over. */
  readonly frame: Buffer;
  /** Stops a window early past this many answers. */
  readonly maxMessages: number;
  /** How long a stopped load may take to get its last answers back. */
  readonly drainMs?: number;
}

export class EchoLoad implements SlicedLoad {
  private readonly batches: Buffer[];
  private readonly readers: FrameReader[] = [];
  private sending = false;
  private received = 0;
  private sent = 0;

  private constructor(
    private readonly sockets: net.Socket[],
    private readonly options: EchoLoadOptions,
  ) {
    this.batches = frameBatches(options.frame, options.inFlight);
    for (const socket of sockets) {
      const reader = new FrameReader((payload) => socket.write(pongFrame(payload)));
      this.readers.push(reader);
      socket.on('data', (chunk: Buffer) => {
        const done = reader.push(chunk);
        if (done === 0) return;
        this.received += done;
        // At most inFlight answers come back at a time, so one prebuilt batch refills them.
        if (this.sending) {
          this.sent += done;
          socket.write(this.batches[done]!);
        }
      });
      socket.on('error', () => socket.destroy());
    }
  }

  static async open(target: Target, localAddress: string, options: EchoLoadOptions): Promise<EchoLoad> {
    const sockets = await openMany(target, localAddress, options.connections, options.connections, 10_000);
    return new EchoLoad(sockets, options);
  }

  async run(rampMs: number, windowMs: number): Promise<SliceCount> {
    this.sending = true;
    for (const socket of this.sockets) {
      if (socket.destroyed) continue;
      this.sent += this.options.inFlight;
      socket.write(this.batches[this.options.inFlight]!);
    }
    await sleep(rampMs);
    const t0 = performance.now();
    const m0 = this.received;
    const b0 = this.bytes();
    await runUntil(windowMs, () => this.received - m0 >= this.options.maxMessages);
    const slice = { count: this.received - m0, bytes: this.bytes() - b0, seconds: (performance.now() - t0) / 1000 };
    this.sending = false;
    await runUntil(this.options.drainMs ?? 2000, () => this.received >= this.sent, 5);
    return slice;
  }

  /** Answers still owed once the last run drained: an echo server that delivers every message owes none. */
  get undelivered(): number {
    return this.sent - this.received;
  }

  close(): Promise<void> {
    this.sending = false;
    return closeAll(this.sockets, 5000);
  }

  private bytes(): number {
    let total = 0;
    for (const r of this.readers) total += r.bytes;
    return total;
  }
}
