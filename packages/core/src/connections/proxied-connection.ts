import { FromRequest, summarize, type CloseInfo, type ConnectionEntry, type ConnectionOrigin, type TrafficTotals } from './connection-entry.js';
import type { ConnectionRegistrar } from './registry.js';
import { type Attributes } from '../vocabulary.js';

/** What a proxy target hands `req.track()`: how to act on the tunnel it opened. */
export interface TunnelControls {
  /** The subprotocol the upstream chose ('' when none). */
  readonly protocol: string;
  /** Close both sides with this code and reason, as well as the tunnel's mode allows (raw mode: at a frame boundary or by FIN). */
  close(code: number, reason: string): void;
  /** Drop both sides at once. */
  terminate(): void;
  /** Ping the client (a tunnel that cannot inject frames may do nothing). */
  ping?(): void;
}

/**
 * A WebSocket relayed to an upstream, as the registry holds it: listed, closed by id, revoked and counted per
 * client like a terminated one. The proxy target reports traffic with `record()` and the end with `ended()`.
 */
export class ProxiedConnection<A extends Attributes = Attributes> extends FromRequest<A> implements ConnectionEntry<A> {
  /** On the prototype: nothing per connection. */
  get kind(): 'proxied' {
    return 'proxied';
  }
  readonly createdAt = Date.now();
  lastActivityAt = this.createdAt;
  private totals = { messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0 };
  private open = true;

  constructor(
    readonly id: number,
    private readonly controls: TunnelControls,
    from: ConnectionOrigin<A>,
    private readonly registry: ConnectionRegistrar,
  ) {
    super(from);
  }

  get protocol(): string {
    return this.controls.protocol;
  }
  close(code = 1000, reason = ''): void {
    if (this.open) this.controls.close(code, reason);
  }
  terminate(): void {
    if (this.open) this.controls.terminate();
  }
  ping(): void {
    if (this.open) this.controls.ping?.();
  }

  /** Traffic that went through: `in` from the client, `out` to it. */
  record(direction: 'in' | 'out', bytes: number, messages = 1): void {
    const t = this.totals;
    if (direction === 'in') {
      t.messagesIn += messages;
      t.bytesIn += bytes;
    } else {
      t.messagesOut += messages;
      t.bytesOut += bytes;
    }
    this.lastActivityAt = Date.now();
  }

  /** The tunnel is gone: out of the registry, and its end told to the registry's subscribers. Idempotent. */
  ended(info: CloseInfo): void {
    if (!this.open) return;
    this.open = false;
    this.registry.remove(this as unknown as ConnectionEntry<any>, info);
  }

  counts(): TrafficTotals {
    return { ...this.totals };
  }

  toJSON(): Record<string, unknown> {
    return summarize(this as unknown as ConnectionEntry<any>, this.open ? 'open' : 'closed');
  }
}
