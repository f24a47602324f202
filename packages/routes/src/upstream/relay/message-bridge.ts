/**
 * Message mode: the client's WebSocket and the upstream's, both terminated here (`ws` parses the frames), and
 * every message handed to the script's hook on its way across. Order is kept per direction even when the hook
 * is async; memory is bounded by pausing the sending side when the hook or the receiving side falls behind.
 * Closing is passed on with the same code: 1000/1001/4xxx as sent, no status as no status, an abnormal end
 * (1006) as a dropped connection; the gateway's own reasons are 1001 (idle, shutdown) and 1011 (hook failure).
 */
import type { WebSocket } from 'ws';
import { isThenable, type CloseInfo, type ProxiedConnection } from '@wsgate/core';
import { SHUTDOWN_CUT_MS } from '../lifecycle.js';
import { checkCloseCode } from './frame-boundary.js';
import { Liveness, type LivenessSettings, type LivenessVerdict, type TunnelSide } from './liveness.js';
import { applyVerdict, type MessageHook, type MessageVerdict, type ProxiedMessage, type TunnelInfo } from './message-hook.js';
import type { Tunnel, TunnelListener } from './tunnel-registry.js';

/** Bytes sent but not yet written towards one side before the other side stops being read. */
const HIGH_WATER = 1024 * 1024;
/** Messages held behind a slow async hook before the sender stops being read. */
const MAX_QUEUED = 64;

export interface BridgeEvents {
  closed(bridge: MessageBridge, cause: string | undefined): void;
  /** The hook threw or returned a bad verdict. */
  hookFailed(err: unknown): void;
}

/** One direction: messages from `source`, through the hook, to the other side. */
class Lane {
  readonly queue: ProxiedMessage[] = [];
  busy = false;
  pendingBytes = 0;
  paused = false;
  /** The source closed: pass the close on once the queue is empty. */
  closeWith: { code: number; reason: Buffer } | undefined;
  constructor(readonly from: TunnelSide) {}
}

export class MessageBridge extends Liveness implements Tunnel {
  private client: WebSocket | undefined;
  private readonly lanes = { client: new Lane('client'), upstream: new Lane('upstream') };
  private open = 2;
  private cause: string | undefined;
  private shuttingDown = false;
  /** The gateway ended the tunnel (close, terminate, shutdown, a timeout, a hook failure) rather than a peer. */
  private byGateway = false;
  /** How the client's side closed: code and reason. */
  private clientClose: { code: number; reason: string } | undefined;
  /** Set once the tunnel is listed in the gateway's connection directory: its traffic is counted there. */
  entry: ProxiedConnection | undefined;

  constructor(
    private readonly upstream: WebSocket,
    private readonly hook: MessageHook,
    private readonly info: TunnelInfo,
    settings: LivenessSettings,
    private readonly events: BridgeEvents,
    /** The server the client's socket came in on. */
    readonly listener: TunnelListener | undefined,
  ) {
    super(settings);
    this.listen(upstream, 'upstream');
  }

  /** The client's side, once its handshake is done; messages the upstream sent meanwhile were held. */
  attachClient(client: WebSocket): void {
    this.client = client;
    this.listen(client, 'client');
    this.pump(this.lanes.upstream);
  }

  /** The client's handshake never completed: the upstream goes too. */
  abandon(): void {
    this.cause ??= 'client handshake failed';
    this.upstream.terminate();
    if (--this.open === 0) this.events.closed(this, this.cause);
  }

  /** How the tunnel ended, for the connection directory: the client side's close code (1006 for a drop). */
  get endInfo(): CloseInfo {
    return { code: this.clientClose?.code ?? 1006, reason: this.clientClose?.reason ?? '', by: this.byGateway ? 'local' : 'remote' };
  }

  /** Closes both sides for the gateway (`connections.close(id, …)`) with this code and reason. */
  close(code: number, reason: string): void {
    checkCloseCode(code);
    if (Buffer.byteLength(reason) > 123) throw new RangeError('The close reason must not be greater than 123 bytes');
    this.byGateway = true;
    this.cause ??= `closed by the gateway (${code})`;
    this.closeBoth(code, reason);
  }

  /** Drops both sides at once. */
  terminate(): void {
    this.byGateway = true;
    this.cause ??= 'terminated by the gateway';
    this.client?.terminate();
    this.upstream.terminate();
  }

  /** Pings the client (its pong counts as hearing from it). */
  pingClient(): void {
    if (this.client?.readyState === 1) this.client.ping();
  }

  shutdown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    this.byGateway = true;
    this.cause ??= 'gateway closing';
    this.closeBoth(1001, 'Going Away');
  }

  protected ping(side: TunnelSide): boolean {
    const ws = this.socket(side);
    if (ws?.readyState !== 1) return false;
    ws.ping();
    return true;
  }

  protected expire(verdict: Exclude<LivenessVerdict, 'ok'>, side: TunnelSide | undefined): void {
    this.byGateway = true;
    if (verdict === 'idle') {
      this.cause ??= 'idle timeout';
      this.closeBoth(1001, 'Idle timeout');
      return;
    }
    this.cause ??= `no answer to ping from the ${side}`;
    this.socket(side!)?.terminate();
  }

  private socket(side: TunnelSide): WebSocket | undefined {
    return side === 'client' ? this.client : this.upstream;
  }

  private other(side: TunnelSide): TunnelSide {
    return side === 'client' ? 'upstream' : 'client';
  }

  private listen(ws: WebSocket, side: TunnelSide): void {
    const lane = this.lanes[side];
    const heard = side === 'client' ? () => this.heardClient++ : () => this.heardUpstream++;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      heard();
      if (side === 'client') this.entry?.record('in', data.length);
      lane.queue.push({ from: side, data, isBinary });
      this.pump(lane);
    });
    ws.on('ping', heard);
    ws.on('pong', heard);
    ws.on('error', (err: Error) => (this.cause ??= `${side}: ${err.message}`));
    ws.on('close', (code: number, reason: Buffer) => {
      if (side === 'client') this.clientClose = { code, reason: reason.toString() };
      lane.closeWith = { code, reason };
      this.pump(lane);
      if (--this.open === 0) this.events.closed(this, this.cause);
    });
  }

  /** Hands queued messages to the hook, in order, one at a time while an async hook is pending. */
  private pump(lane: Lane): void {
    const to = this.socket(this.other(lane.from));
    while (!lane.busy && to !== undefined && lane.queue.length > 0) {
      const message = lane.queue.shift()!;
      let verdict: MessageVerdict | Promise<MessageVerdict>;
      try {
        verdict = this.hook(message, this.info);
      } catch (err) {
        this.hookFailed(err);
        return;
      }
      if (isThenable(verdict)) {
        lane.busy = true;
        verdict.then(
          (v) => {
            lane.busy = false;
            this.deliver(lane, to, message, v);
            this.pump(lane);
          },
          (err: unknown) => this.hookFailed(err),
        );
      } else {
        this.deliver(lane, to, message, verdict);
      }
    }
    if (!lane.busy && lane.queue.length === 0 && lane.closeWith && to !== undefined) this.passClose(lane, to);
    this.flowControl(lane);
  }

  private deliver(lane: Lane, to: WebSocket, message: ProxiedMessage, verdict: MessageVerdict): void {
    let out;
    try {
      out = applyVerdict(message, verdict);
    } catch (err) {
      this.hookFailed(err);
      return;
    }
    if (out === undefined || to.readyState !== 1) return;
    const size = Buffer.byteLength(out.data);
    if (to === this.client) this.entry?.record('out', size);
    lane.pendingBytes += size;
    to.send(out.data, { binary: out.binary }, () => {
      lane.pendingBytes -= size;
      this.flowControl(lane);
    });
  }

  /** Reads from the lane's source only while its hook, its queue and its destination keep up. */
  private flowControl(lane: Lane): void {
    const source = this.socket(lane.from);
    if (source === undefined || source.readyState !== 1) return;
    const behind = lane.busy || lane.queue.length >= MAX_QUEUED || lane.pendingBytes > HIGH_WATER;
    if (behind && !lane.paused) {
      lane.paused = true;
      source.pause();
    } else if (!behind && lane.paused) {
      lane.paused = false;
      source.resume();
    }
  }

  private passClose(lane: Lane, to: WebSocket): void {
    const { code, reason } = lane.closeWith!;
    lane.closeWith = undefined;
    if (to.readyState === 2 || to.readyState === 3) return;
    // 1006 and 1015 never travel on the wire: the other side sees the same abrupt end.
    if (code === 1006 || code === 1015) to.terminate();
    else if (code === 1005) to.close();
    else to.close(code, reason);
  }

  private hookFailed(err: unknown): void {
    this.cause ??= 'onMessage failed';
    this.byGateway = true;
    this.events.hookFailed(err);
    this.closeBoth(1011, 'Internal Error');
  }

  private closeBoth(code: number, reason: string): void {
    for (const side of ['client', 'upstream'] as const) {
      const ws = this.socket(side);
      if (ws === undefined) continue;
      // A paused side would never read the peer's answering close frame.
      if (this.lanes[side].paused) {
        this.lanes[side].paused = false;
        ws.resume();
      }
      if (ws.readyState === 0) ws.terminate();
      else if (ws.readyState === 1) ws.close(code, reason);
    }
    // A side that never completes the closing handshake must not hold the tunnel.
    setTimeout(() => {
      this.client?.terminate();
      this.upstream.terminate();
    }, SHUTDOWN_CUT_MS).unref();
  }
}
