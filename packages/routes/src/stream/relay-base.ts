import { silentLogger, type Logger } from '@wsgate/core';
import type { RetireReason } from '../upstream/lifecycle.js';
import type { UpstreamNode } from '../upstream/node.js';
import { claimPort, portKey, releasePort, type PortHolder } from './port-ledger.js';
import type { StreamPool, StreamSettings } from './stream-pool.js';

/** What the UDP and TCP relays share: their pool, where they listen, their port's hand-over, their log lines. */
export abstract class RelayBase<H> implements PortHolder<H> {
  protected bound: { host: string; port: number } | undefined;
  protected readonly log: Logger;
  /** The port-ledger key of the configured address; undefined for port 0. */
  protected readonly portKey: string | undefined;

  constructor(
    protected readonly pool: StreamPool,
    protected readonly settings: StreamSettings,
    protocol: 'udp' | 'tcp',
  ) {
    this.log = (settings.logger ?? silentLogger).child({ relay: `${protocol} ${settings.host}:${settings.port}` });
    this.portKey = portKey(protocol, settings.host, settings.port);
  }

  get nodes(): readonly UpstreamNode[] {
    return this.pool.nodes;
  }

  /** Sessions open now. */
  abstract get sessions(): number;

  address(): { host: string; port: number } {
    if (!this.bound) throw new Error('the relay is not listening: await listen() first');
    return this.bound;
  }

  /**
   * Binds the port, unless a relay of this process holds it (the one a reload is replacing): then this one
   * waits for it, and resolves at once.
   */
  async listen(): Promise<void> {
    if (this.portKey !== undefined && claimPort(this.portKey, this) === 'wait') {
      this.bound = { host: this.settings.host, port: this.settings.port };
      this.log.info({ port: this.settings.port }, 'port held by the relay being reloaded: taken over once that one is retired');
      return;
    }
    this.bound = await this.bind();
  }

  /**
   * For the `routes:close` route of the route set that made the relay. `'reload'`: the port goes to the relay
   * the new route set made for the same address (UDP sessions with it), or is closed when there is none;
   * open TCP sessions carry on. `'shutdown'`: as `close()`.
   */
  retire(reason: RetireReason): Promise<void> {
    return reason === 'shutdown' ? this.close() : this.handOver();
  }

  /** Ends every session and gives the port up. */
  async close(): Promise<void> {
    if (this.portKey !== undefined) releasePort(this.portKey, this);
    await this.shutdown();
  }

  abstract adopt(handOver: H): void;
  /** Binds the configured address; records itself in the ledger. */
  protected abstract bind(): Promise<{ host: string; port: number }>;
  protected abstract handOver(): Promise<void>;
  protected abstract shutdown(): Promise<void>;
}
