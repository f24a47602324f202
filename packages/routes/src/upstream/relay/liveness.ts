/**
 * Idle timeout and keep-alive pings for tunnels, driven by one sweep timer per pool (see `TunnelRegistry`)
 * instead of a timer per socket: the data path only bumps a counter per chunk.
 */

export interface LivenessSettings {
  /** Both sides silent this long: the tunnel is closed (nginx `proxy_read_timeout`). */
  readonly idleMs: number;
  /** A side silent this long is pinged; undefined: no pings. */
  readonly pingIntervalMs: number | undefined;
  /** A pinged side still silent this long after the ping: the tunnel is closed. */
  readonly pingTimeoutMs: number;
}

export type TunnelSide = 'client' | 'upstream';

/** What a sweep decided for a tunnel. */
export type LivenessVerdict = 'ok' | 'idle' | 'dead';

/**
 * The base of every tunnel: counters the data path bumps (`heardClient++`, `heardUpstream++`) and the
 * decisions a sweep takes from them.
 */
export abstract class Liveness {
  /** Bumped on everything received from each side. */
  heardClient = 0;
  heardUpstream = 0;
  private seenClient = -1;
  private seenUpstream = -1;
  private quietClientSince = 0;
  private quietUpstreamSince = 0;
  private pingedClientAt = 0;
  private pingedUpstreamAt = 0;

  constructor(protected readonly liveness: LivenessSettings) {}

  /** Sends a ping to one side; false when it cannot now (mid-frame in raw mode): retried on the next sweep. */
  protected abstract ping(side: TunnelSide): boolean;

  /** Closes the tunnel: both sides were silent too long (`idle`), or `side` never answered a ping (`dead`). */
  protected abstract expire(verdict: Exclude<LivenessVerdict, 'ok'>, side: TunnelSide | undefined): void;

  /** Called by the registry's sweep. */
  sweep(now: number): void {
    if (this.heardClient !== this.seenClient) {
      this.seenClient = this.heardClient;
      this.quietClientSince = now;
      this.pingedClientAt = 0;
    }
    if (this.heardUpstream !== this.seenUpstream) {
      this.seenUpstream = this.heardUpstream;
      this.quietUpstreamSince = now;
      this.pingedUpstreamAt = 0;
    }
    const s = this.liveness;
    if (now - Math.max(this.quietClientSince, this.quietUpstreamSince) >= s.idleMs) {
      this.expire('idle', undefined);
      return;
    }
    if (s.pingIntervalMs === undefined) return;
    if (this.pingedClientAt !== 0 && now - this.pingedClientAt >= s.pingTimeoutMs) return this.expire('dead', 'client');
    if (this.pingedUpstreamAt !== 0 && now - this.pingedUpstreamAt >= s.pingTimeoutMs) return this.expire('dead', 'upstream');
    if (this.pingedClientAt === 0 && now - this.quietClientSince >= s.pingIntervalMs && this.ping('client')) this.pingedClientAt = now;
    if (this.pingedUpstreamAt === 0 && now - this.quietUpstreamSince >= s.pingIntervalMs && this.ping('upstream')) this.pingedUpstreamAt = now;
  }
}
