/**
 * The proxy's fast path once the upstream's 101 is relayed: bytes copied both ways unparsed, as nginx does.
 * Backpressure by pause/resume on `write()`'s answer; a FIN is passed on as a FIN (TCP half-close), an error
 * or reset as a reset. The socket listeners are shared functions (`this` is the socket) and each socket
 * points at its tunnel, so an idle tunnel costs one small object beyond its two sockets.
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

export class RawTunnel extends Liveness implements Tunnel {
  /** Frame boundaries of each direction, followed only when pings are on. */
  private readonly toClient: FrameBoundary | undefined;
  private readonly toUpstream: FrameBoundary | undefined;
  private open = 2;
  private cause: string | undefined;
  private shuttingDown = false;
  /** The gateway ended the tunnel (close, terminate, shutdown, a timeout) rather than a peer. */
  private byGateway = false;
  /** The close frame the gateway sent both ways, when it could. */
  private sentClose: { code: number; reason: string } | undefined;
  /** Closing by the gateway: what still arrives is dropped (the other side's writable end is ended). */
  private closing = false;
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
    if (settings.pingIntervalMs !== undefined) {
      this.toClient = new FrameBoundary();
      this.toUpstream = new FrameBoundary();
    }
    for (const end of [client, upstream] as End[]) {
      end[kTunnel] = this;
      end.on('data', onData);
      end.on('drain', onDrain);
      end.on('end', onEnd);
      end.on('error', onError);
      end.on('close', onClose);
    }
  }

  /** Bytes that arrived with the handshake (the client's after its request, the upstream's after its 101). */
  start(clientHead: Buffer, upstreamHead: Buffer): void {
    if (upstreamHead.length > 0) onData.call(this.upstream as End, upstreamHead);
    if (clientHead.length > 0) onData.call(this.client as End, clientHead);
    this.client.resume();
    this.upstream.resume();
  }

  /** How the tunnel ended, for the connection directory: the gateway's close code if it sent one, else 1006. */
  get endInfo(): CloseInfo {
    return { code: this.sentClose?.code ?? 1006, reason: this.sentClose?.reason ?? '', by: this.byGateway ? 'local' : 'remote' };
  }

  /**
   * Closes both sides for the gateway (`connections.close(id, …)`): a close frame with `code` and `reason`
   * each way when both directions are known to be between frames (frame boundaries are followed when pings
   * are on), then a FIN each way. Whatever arrives afterwards is dropped.
   */
  close(code: number, reason: string): void {
    checkCloseCode(code);
    if (this.closing || this.shuttingDown) return;
    this.closing = true;
    this.byGateway = true;
    this.cause ??= `closed by the gateway (${code})`;
    if (this.toClient?.atBoundary && this.toUpstream?.atBoundary && !this.client.writableEnded && !this.upstream.writableEnded) {
      this.sentClose = { code, reason };
      this.client.write(closeFrame(code, reason, false));
      this.upstream.write(closeFrame(code, reason, true));
    }
    this.client.end();
    this.upstream.end();
    setTimeout(() => this.destroy(), SHUTDOWN_CUT_MS).unref();
  }

  /** Drops both sides at once. */
  terminate(): void {
    this.byGateway = true;
    this.cause ??= 'terminated by the gateway';
    this.destroy();
  }

  shutdown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    this.byGateway = true;
    this.cause ??= 'gateway closing';
    this.client.end();
    this.upstream.end();
    // A peer that never answers the FIN must not hold the shutdown.
    setTimeout(() => this.destroy(), SHUTDOWN_CUT_MS).unref();
  }

  protected ping(side: TunnelSide): boolean {
    if (side === 'client') {
      if (!this.toClient!.atBoundary || this.client.writableNeedDrain) return false;
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
    this.destroy();
  }

  private destroy(): void {
    this.client.destroy();
    this.upstream.destroy();
  }

  /** @internal */
  relay(from: End, chunk: Buffer): void {
    if (this.closing) return;
    let to: Duplex;
    if (from === this.client) {
      this.heardClient++;
      this.toUpstream?.push(chunk);
      this.entry?.record('in', chunk.length, 0);
      to = this.upstream;
    } else {
      this.heardUpstream++;
      this.toClient?.push(chunk);
      this.entry?.record('out', chunk.length, 0);
      to = this.client;
    }
    if (!to.write(chunk)) from.pause();
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
  this[kTunnel]!.peerOf(this).end();
}

function onError(this: End, err: Error): void {
  this[kTunnel]!.failed(this, err);
}

function onClose(this: End): void {
  this[kTunnel]!.closed(this);
}
