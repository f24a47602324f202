import { isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { UpstreamAddress } from './address.js';
import { NameCache } from './name-cache.js';

/** What a node of a pool is configured with. */
export interface NodeSettings {
  readonly address: UpstreamAddress;
  readonly name: string;
  readonly weight: number;
  readonly maxFails: number;
  readonly failTimeoutMs: number;
  readonly backup: boolean;
  readonly down: boolean;
}

/**
 * One upstream server of a pool and what the gateway knows about it: passive health (nginx `max_fails` /
 * `fail_timeout`), active health (set by the health checker), and how many requests and tunnels it holds
 * (for `least_conn`).
 */
export class UpstreamNode {
  /** Position in its pool, stable for the pool's life. */
  readonly index: number;
  readonly address: UpstreamAddress;
  readonly name: string;
  readonly weight: number;
  readonly backup: boolean;
  /** Taken out by configuration (nginx `down`). */
  down: boolean;
  /** Set by active health checks; true until a check says otherwise. */
  healthy = true;
  /** Requests in flight and tunnels open through this node. */
  active = 0;
  /** Balancer scratch space (smooth weighted round-robin's current weight). */
  currentWeight = 0;
  /** The last TLS session, offered again on the next connection (nginx `proxy_ssl_session_reuse`). */
  tlsSession: Buffer | undefined;
  /** The host name's addresses, for a node given by name (none for IP addresses and unix sockets). */
  readonly names: NameCache | undefined;

  private fails = 0;
  private firstFailAt = 0;
  private unavailableUntil = 0;
  private readonly maxFails: number;
  private readonly failTimeoutMs: number;

  constructor(settings: NodeSettings, index: number) {
    this.address = settings.address;
    this.name = settings.name;
    this.weight = settings.weight;
    this.backup = settings.backup;
    this.down = settings.down;
    this.maxFails = settings.maxFails;
    this.failTimeoutMs = settings.failTimeoutMs;
    this.index = index;
    this.names = settings.address.socketPath === undefined && isIP(settings.address.host) === 0 ? new NameCache() : undefined;
  }

  /** Can requests go here now? */
  available(now: number): boolean {
    return !this.down && this.healthy && now >= this.unavailableUntil;
  }

  /** A connect error or timeout: after `maxFails` within `failTimeout`, out for `failTimeout`. */
  recordFailure(now: number, alone: boolean): void {
    // nginx ignores max_fails for a server that is alone in its upstream: there is nowhere else to go.
    if (this.maxFails === 0 || alone) return;
    if (now - this.firstFailAt > this.failTimeoutMs) {
      this.fails = 0;
      this.firstFailAt = now;
    }
    if (++this.fails >= this.maxFails) {
      this.unavailableUntil = now + this.failTimeoutMs;
      this.fails = 0;
    }
  }

  /** The upstream answered: earlier failures no longer count. */
  recordSuccess(): void {
    this.fails = 0;
  }

  /** For TLS connections: remember the session to resume it next time. */
  keepSession(socket: TLSSocket): void {
    socket.once('session', (session: Buffer) => (this.tlsSession = session));
  }

  /** For status pages and logs. */
  state(now: number): { name: string; url: string; available: boolean; healthy: boolean; down: boolean; active: number } {
    return { name: this.name, url: this.address.label, available: this.available(now), healthy: this.healthy, down: this.down, active: this.active };
  }
}
