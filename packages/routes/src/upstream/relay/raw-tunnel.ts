/**
 * The proxy's fast path once the upstream's 101 is relayed: bytes copied both ways unparsed, as nginx does.
 * Backpressure by pause/resume on `write()`'s answer; a FIN is passed on as a FIN (TCP half-close), an error
 * or reset as a reset. The socket listeners are shared functions (`this` is the socket) and each socket
 * points at its tunnel, so an idle tunnel costs one small object beyond its two sockets. A WebSocket tunnel
 * also follows frame headers each way (never payloads), so that a close the gateway starts is a close frame
 * at a frame boundary, and the close code on the wire is what the directory is told.
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { CloseInfo, ProxiedConnection } from '@wsgate/core';
import { SHUTDOWN_CUT_MS } from '../lifecycle.js';
import { checkCloseCode, closeFrame, FrameBoundary, PING_TO_CLIENT, PING_TO_UPSTREAM } from './frame-boundary.js';
import { Liveness, type LivenessSettings, type LivenessVerdict, type TunnelSide } from './liveness.js';
import { listenerOf, type Tunnel, type TunnelListener } from './tunnel-registry.js';

const kTunnel = Symbol('wsgate.rawTunnel');
type End = Duplex & { [kTunnel]?: RawTunnel };

export interface RawTunnelEvents {
  /** Both sockets are gone; `cause` says why if it was not a clean close. */
  closed(tunnel: RawTunnel, cause: string | undefined): void;
}

/**
 * A close the gateway started, towards one side: its close frame waits for the next frame boundary of the
 * stream to that side (`pending`); then a close frame has reached the side, the gateway's or its peer's
 * (`sent`), and nothing more is written to it; or none ever will, the stream having ended mid-frame (`lost`).
 */
interface Way {
  state: 'pending' | 'sent' | 'lost';
  readonly frame: Buffer;
  /** The close as the directory is told of it once the frame is out. */
  readonly info: CloseInfo;
}

export class RawTunnel extends Liveness implements Tunnel {
  /** Frame boundaries of each direction, named by where the frames go; followed in WebSocket tunnels only. */
  private toClient: FrameBoundary | undefined;
  private toUpstream: FrameBoundary | undefined;
  private open = 2;
  private cause: string | undefined;
  private shuttingDown = false;
  /** The gateway ended the tunnel (close, terminate, shutdown, a timeout) rather than a peer. */
  private byGateway = false;
  /** The first close frame on the wire: a peer's that went through, or the gateway's own. */
  private firstClose: CloseInfo | undefined;
  /** Closing by the gateway. Without frames (not a WebSocket): what still arrives is dropped. */
  private closing = false;
  /** Closing a WebSocket tunnel: the closing handshake with each side. */
  private ways: { client: Way; upstream: Way } | undefined;
  readonly listener: TunnelListener | undefined;
  /** Set once the tunnel is listed in the gateway's connection directory: bytes per chunk, messages unknown. */
  entry: ProxiedConnection | undefined;

  constructor(
    readonly client: Duplex,
    readonly upstream: Socket,
    settings: LivenessSettings,
    private readonly events: RawTunnelEvents,
  ) {
    super(settings);
    this.listener = listenerOf(client);
    for (const end of [client, upstream] as End[]) {
      end[kTunnel] = this;
      end.on('data', onData);
      end.on('drain', onDrain);
      end.on('end', onEnd);
      end.on('error', onError);
      end.on('close', onClose);
    }
  }

  /**
   * A WebSocket tunnel (listed by `track()` before its first byte): frame boundaries are followed from now on,
   * so the gateway can put pings and close frames between frames, and the close code on the wire is known.
   */
  followFrames(): void {
    if (this.heardClient + this.heardUpstream > 0 || this.toClient !== undefined) return;
    this.toClient = new FrameBoundary();
    this.toUpstream = new FrameBoundary();
  }

  /** Bytes that arrived with the handshake (the client's after its request, the upstream's after its 101). */
  start(clientHead: Buffer, upstreamHead: Buffer): void {
    if (upstreamHead.length > 0) onData.call(this.upstream as End, upstreamHead);
    if (clientHead.length > 0) onData.call(this.client as End, clientHead);
    this.client.resume();
    this.upstream.resume();
  }

  /** How the tunnel ended, for the connection directory: the first close frame on the wire, else 1006. */
  get endInfo(): CloseInfo {
    return this.firstClose ?? { code: 1006, reason: '', by: this.byGateway ? 'local' : 'remote' };
  }

  /**
   * Closes both sides for the gateway (`connections.close(id, …)`, shutdown, idle timeout). A WebSocket
   * tunnel sends a close frame with `code` and `reason` each way at the stream's next frame boundary (a frame
   * under way is relayed to its end first), drops what follows, and ends each side's TCP connection once
   * that side has answered with its own close frame or its FIN. Any other tunnel: a FIN each way. A side
   * still open after `SHUTDOWN_CUT_MS` is cut.
   */
  close(code: number, reason: string): void {
    checkCloseCode(code);
    if (this.closing) return;
    this.closing = true;
    this.byGateway = true;
    this.cause ??= `closed by the gateway (${code})`;
    setTimeout(() => this.destroy(), SHUTDOWN_CUT_MS).unref();
    if (this.toClient === undefined) {
      this.client.end();
      this.upstream.end();
      return;
    }
    const toClient = closeFrame(code, reason, false);
    // The reason as it goes on the wire (a long one is cut to fit a control frame).
    const info: CloseInfo = { code, reason: toClient.toString('utf8', 4), by: 'local' };
    this.ways = { client: { state: 'pending', frame: toClient, info }, upstream: { state: 'pending', frame: closeFrame(code, reason, true), info } };
    this.sendClose('client');
    this.sendClose('upstream');
  }

  /** Drops both sides at once. */
  terminate(): void {
    this.byGateway = true;
    this.cause ??= 'terminated by the gateway';
    this.destroy();
  }

  /** The gateway or the pool is closing: 1001 Going Away (a FIN each way when not a WebSocket). */
  shutdown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    this.byGateway = true;
    this.cause ??= 'gateway closing';
    this.close(1001, 'Going Away');
  }

  protected ping(side: TunnelSide): boolean {
    if (this.closing || this.toClient === undefined) return false;
    if (side === 'client') {
      if (!this.toClient.atBoundary || this.client.writableNeedDrain) return false;
      this.client.write(PING_TO_CLIENT);
    } else {
      if (!this.toUpstream!.atBoundary || this.upstream.writableNeedDrain) return false;
      this.upstream.write(PING_TO_UPSTREAM);
    }
    return true;
  }

  protected expire(verdict: Exclude<LivenessVerdict, 'ok'>, side: TunnelSide | undefined): void {
    this.cause ??= verdict === 'idle' ? 'idle timeout' : `no answer to ping from the ${side}`;
    this.byGateway = true;
    // Idle: both peers are there, and are told why; a dead peer would never answer a close frame.
    if (verdict === 'idle' && this.toClient !== undefined) this.close(1001, 'Idle timeout');
    else this.destroy();
  }

  private destroy(): void {
    this.client.destroy();
    this.upstream.destroy();
  }

  private socket(side: TunnelSide): Duplex {
    return side === 'client' ? this.client : this.upstream;
  }

  /** The frames going to `side`. */
  private framesTo(side: TunnelSide): FrameBoundary {
    return (side === 'client' ? this.toClient : this.toUpstream)!;
  }

  /** Writes the gateway's close frame to `side` if the stream to it is between frames; else it waits. */
  private sendClose(side: TunnelSide): void {
    const way = this.ways![side];
    if (way.state !== 'pending') return;
    const frames = this.framesTo(side);
    const to = this.socket(side);
    const from = this.socket(side === 'client' ? 'upstream' : 'client');
    if (frames.close !== undefined) {
      way.state = 'sent'; // the peer's own close frame went through: the side answers that one
    } else if (to.writableEnded || to.destroyed) {
      way.state = 'lost';
    } else if (frames.atBoundary) {
      to.write(way.frame);
      way.state = 'sent';
      this.firstClose ??= way.info;
    } else if (from.readableEnded) {
      way.state = 'lost'; // ended mid-frame: the frame will never be whole
    } else {
      return;
    }
    // Nothing more goes to this side: what its peer still sends is read only for that peer's close frame.
    from.resume();
    this.settle(side);
  }

  /** Ends `side`'s TCP connection once its closing handshake is over: it answered, or it can get no close frame. */
  private settle(side: TunnelSide): void {
    const way = this.ways![side];
    const end = this.socket(side);
    if (way.state === 'pending' || end.writableEnded) return;
    const answered = this.framesTo(side === 'client' ? 'upstream' : 'client').close !== undefined;
    if (way.state === 'lost' || answered || end.readableEnded) end.end();
  }

  /** @internal */
  relay(from: End, chunk: Buffer): void {
    const toClient = from !== this.client;
    if (toClient) this.heardUpstream++;
    else this.heardClient++;
    const frames = toClient ? this.toClient : this.toUpstream;
    if (this.ways !== undefined) return this.relayClosing(from, toClient ? 'client' : 'upstream', frames!, chunk);
    if (this.closing) return;
    if (frames !== undefined) {
      frames.push(chunk);
      if (frames.close !== undefined) this.firstClose ??= { ...frames.close, by: 'remote' };
    }
    this.forward(from, toClient, chunk);
  }

  private forward(from: Duplex, toClient: boolean, chunk: Buffer): void {
    this.entry?.record(toClient ? 'out' : 'in', chunk.length, 0);
    if (!(toClient ? this.client : this.upstream).write(chunk)) from.pause();
  }

  /** While the gateway closes: the frame under way goes on to its end, then the close frame; the rest is dropped. */
  private relayClosing(from: Duplex, to: TunnelSide, frames: FrameBoundary, chunk: Buffer): void {
    if (this.ways![to].state === 'pending') {
      const at = frames.pushToBoundary(chunk);
      const part = at < 0 ? chunk : chunk.subarray(0, at);
      if (part.length > 0) this.forward(from, to === 'client', part);
      if (frames.close !== undefined) this.firstClose ??= { ...frames.close, by: 'remote' };
      if (at < 0) return;
      this.sendClose(to);
      chunk = chunk.subarray(at);
    }
    frames.push(chunk);
    this.settle(to === 'client' ? 'upstream' : 'client');
  }

  /** @internal The FIN from `end`: passed on, or, while the gateway closes, part of that side's closing handshake. */
  ended(end: End): void {
    if (this.ways === undefined) return void this.peerOf(end).end();
    const side = end === this.client ? 'client' : 'upstream';
    const other = side === 'client' ? 'upstream' : 'client';
    this.sendClose(other);
    this.settle(side);
  }

  /** @internal */
  peerOf(end: End): Duplex {
    return end === this.client ? this.upstream : this.client;
  }

  /** @internal */
  failed(end: End, err: Error): void {
    this.cause ??= `${end === this.client ? 'client' : 'upstream'}: ${(err as NodeJS.ErrnoException).code ?? err.message}`;
    // A reset on one side is passed on as a reset: the peer must not take a truncated stream for a clean end.
    const peer = this.peerOf(end) as Socket;
    if (typeof peer.resetAndDestroy === 'function' && !peer.destroyed) peer.resetAndDestroy();
    else peer.destroy();
  }

  /** @internal */
  closed(end: End): void {
    const peer = this.peerOf(end);
    // Closed without a FIN having been passed on (destroyed): the peer goes too, at once.
    if (!peer.destroyed && !end.readableEnded) peer.destroy();
    if (--this.open === 0) this.events.closed(this, this.cause);
  }
}

function onData(this: End, chunk: Buffer): void {
  this[kTunnel]!.relay(this, chunk);
}

function onDrain(this: End): void {
  this[kTunnel]!.peerOf(this).resume();
}

function onEnd(this: End): void {
  // Half-close: the FIN goes on; the other direction keeps flowing until its own FIN.
  this[kTunnel]!.ended(this);
}

function onError(this: End, err: Error): void {
  this[kTunnel]!.failed(this, err);
}

function onClose(this: End): void {
  this[kTunnel]!.closed(this);
}
