/**
 * The load of the send-to-connection benchmark, run by the benchmark's own process (a `ws` client; the
 * gateways and Redis are other processes): one receiving WebSocket on `/receive` of the node that holds it,
 * and senders on `/send?to=<its id>` of a node — the same one, or another. Each message carries its sequence
 * number; its latency is from the sender's `send()` to the receiver's `message` event, one clock.
 *
 * Two measures: throughput, with `window` messages kept in flight per sender (messages per second, and their
 * latency under that load); and latency alone, one message in flight at a time.
 */
import WebSocket from 'ws';
import { runUntil, sleep } from '../gateway/time.js';

export interface SendLoadOptions {
  /** The receiver's node, and the senders'. */
  readonly receivePort: number;
  readonly sendPort: number;
  /** Sender connections. Default 4. */
  readonly senders?: number;
  /** Messages in flight per sender in the throughput measure. Default 32. */
  readonly window?: number;
  /** Message size in bytes (text). Default 64. */
  readonly bytes?: number;
}

export interface ThroughputSlice {
  readonly perSecond: number;
  /** Milliseconds, of each message delivered in the counted window. */
  readonly latencies: number[];
  /** Messages sent and not delivered within 5 s of the slice's end. */
  readonly lost: number;
}

const OPEN_TIMEOUT_MS = 10_000;
const DRAIN_TIMEOUT_MS = 5_000;

/** Opens a WebSocket; `first`, when given, gets its first message (which may come in the same read as the 101). */
function open(url: string, first?: (data: Buffer) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    if (first) ws.once('message', first);
    const timer = setTimeout(() => (ws.terminate(), reject(new Error(`${url}: not open in ${OPEN_TIMEOUT_MS} ms`))), OPEN_TIMEOUT_MS);
    ws.once('open', () => (clearTimeout(timer), resolve(ws)));
    ws.once('error', (err) => (clearTimeout(timer), reject(new Error(`${url}: ${err.message}`))));
    ws.once('unexpected-response', (_req, res) => (clearTimeout(timer), ws.terminate(), reject(new Error(`${url}: answered ${res.statusCode}`))));
  });
}

export class SendLoad {
  /** Send time (performance.now()) of each message in flight, by sequence number. */
  private readonly sentAt = new Map<number, number>();
  private seq = 0;
  private onDelivered: (sender: number, ms: number) => void = () => undefined;
  private readonly padding: string;

  private constructor(
    private readonly receiver: WebSocket,
    private readonly senders: WebSocket[],
    private readonly window: number,
    bytes: number,
  ) {
    this.padding = 'x'.repeat(Math.max(0, bytes - 16));
    receiver.on('message', (data: Buffer) => {
      const text = data.toString('latin1');
      const colon = text.indexOf(':');
      const sender = Number(text.slice(0, colon));
      const seq = Number(text.slice(colon + 1, text.indexOf(':', colon + 1)));
      const at = this.sentAt.get(seq);
      if (at === undefined) return;
      this.sentAt.delete(seq);
      this.onDelivered(sender, performance.now() - at);
    });
  }

  /** Opens the receiver, learns its connection id from its first message, and opens the senders to it. */
  static async open(options: SendLoadOptions): Promise<SendLoad> {
    let told: (id: number) => void = () => undefined;
    const id = new Promise<number>((resolve) => (told = resolve));
    const receiver = await open(`ws://127.0.0.1:${options.receivePort}/receive`, (data) => told(Number((JSON.parse(data.toString()) as { id: number }).id)));
    try {
      let timer: NodeJS.Timeout | undefined;
      const to = await Promise.race([id, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('the receiver was not told its id in 5 s')), 5000)))]);
      clearTimeout(timer);
      const senders = await Promise.all(Array.from({ length: options.senders ?? 4 }, () => open(`ws://127.0.0.1:${options.sendPort}/send?to=${to}`)));
      return new SendLoad(receiver, senders, options.window ?? 32, options.bytes ?? 64);
    } catch (err) {
      receiver.terminate();
      throw err;
    }
  }

  /** Messages in flight now. */
  get inFlight(): number {
    return this.sentAt.size;
  }

  private send(sender: number): void {
    const seq = ++this.seq;
    this.sentAt.set(seq, performance.now());
    this.senders[sender]!.send(`${sender}:${seq}:${this.padding}`);
  }

  /** `window` messages in flight per sender, `rampMs` uncounted, then `windowMs` counted. */
  async throughput(rampMs: number, windowMs: number): Promise<ThroughputSlice> {
    let running = true;
    let counting = false;
    const latencies: number[] = [];
    this.onDelivered = (sender, ms) => {
      if (counting) latencies.push(ms);
      if (running) this.send(sender);
    };
    for (let s = 0; s < this.senders.length; s++) for (let w = 0; w < this.window; w++) this.send(s);
    await sleep(rampMs);
    counting = true;
    const t0 = performance.now();
    await sleep(windowMs);
    counting = false;
    const seconds = (performance.now() - t0) / 1000;
    running = false;
    const lost = await this.drain();
    return { perSecond: latencies.length / seconds, latencies, lost };
  }

  /** One message in flight at a time, up to `count` of them or `maxMs`: each one's latency in ms. */
  async latency(count: number, maxMs: number): Promise<{ latencies: number[]; lost: number }> {
    const latencies: number[] = [];
    const deadline = performance.now() + maxMs;
    let timer: NodeJS.Timeout | undefined;
    const timeUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, maxMs)));
    let next: (() => void) | undefined;
    this.onDelivered = (_sender, ms) => {
      latencies.push(ms);
      next?.();
    };
    while (latencies.length < count && performance.now() < deadline) {
      const delivered = new Promise<void>((resolve) => (next = resolve));
      this.send(0);
      await Promise.race([delivered, timeUp]);
    }
    clearTimeout(timer);
    next = undefined;
    return { latencies, lost: await this.drain() };
  }

  /** Waits (bounded) for what is in flight, and counts what never came. */
  private async drain(): Promise<number> {
    await runUntil(DRAIN_TIMEOUT_MS, () => this.sentAt.size === 0, 5);
    const lost = this.sentAt.size;
    this.sentAt.clear();
    this.onDelivered = () => undefined;
    return lost;
  }

  close(): void {
    for (const ws of [this.receiver, ...this.senders]) ws.terminate();
  }
}
