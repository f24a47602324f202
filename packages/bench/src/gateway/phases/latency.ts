/**
 * Round-trip latency: `connections` WebSockets, one message in flight on each; every round trip counted in a
 * window is timed with `process.hrtime.bigint()` into a preallocated array, and percentiles are read from it once
 * sorted (nearest rank).
 */
import type net from 'node:net';
import { FrameReader, pongFrame } from '../frames.js';
import { runUntil, sleep } from '../time.js';
import { closeAll, openMany, type Target } from '../ws-client.js';
import type { SliceCount, SlicedLoad } from './slice.js';

export interface LatencyOptions {
  readonly connections: number;
  readonly frame: Buffer;
  /** Samples kept at most, over all slices; a window ends early once it is full. */
  readonly maxSamples: number;
}

export interface Percentiles {
  /** Microseconds. */
  readonly p50: number;
  readonly p99: number;
  readonly samples: number;
}

export class LatencyLoad implements SlicedLoad {
  private readonly rtts: Float64Array;
  private samples = 0;
  private recording = false;
  private sending = false;
  private inFlight = 0;
  /** One per connection: sends its next message. */
  private readonly senders: (() => void)[] = [];

  private constructor(
    private readonly sockets: net.Socket[],
    options: LatencyOptions,
  ) {
    this.rtts = new Float64Array(options.maxSamples);
    for (const socket of sockets) {
      let sentAt = 0n;
      const reader = new FrameReader((payload) => socket.write(pongFrame(payload)));
      const send = () => {
        this.inFlight++;
        sentAt = process.hrtime.bigint();
        socket.write(options.frame);
      };
      socket.on('data', (chunk: Buffer) => {
        if (reader.push(chunk) === 0) return;
        const rtt = Number(process.hrtime.bigint() - sentAt) / 1000;
        this.inFlight--;
        if (this.recording && this.samples < this.rtts.length) this.rtts[this.samples++] = rtt;
        if (this.sending) send();
      });
      socket.on('error', () => socket.destroy());
      this.senders.push(() => {
        if (!socket.destroyed) send();
      });
    }
  }

  static async open(target: Target, localAddress: string, options: LatencyOptions): Promise<LatencyLoad> {
    const sockets = await openMany(target, localAddress, options.connections, options.connections, 10_000);
    return new LatencyLoad(sockets, options);
  }

  async run(rampMs: number, windowMs: number): Promise<SliceCount> {
    this.sending = true;
    for (const send of this.senders) send();
    await sleep(rampMs);
    const t0 = performance.now();
    const s0 = this.samples;
    this.recording = true;
    await runUntil(windowMs, () => this.samples >= this.rtts.length);
    this.recording = false;
    this.sending = false;
    const slice = { count: this.samples - s0, bytes: 0, seconds: (performance.now() - t0) / 1000 };
    await runUntil(2000, () => this.inFlight <= 0, 5);
    return slice;
  }

  percentiles(): Percentiles {
    if (this.samples === 0) throw new Error('no round trip was timed');
    const sorted = this.rtts.subarray(0, this.samples).sort();
    const at = (p: number) => sorted[Math.max(1, Math.ceil(p * sorted.length)) - 1]!;
    return { p50: at(0.5), p99: at(0.99), samples: this.samples };
  }

  close(): Promise<void> {
    this.sending = false;
    return closeAll(this.sockets, 5000);
  }
}
