import { silentLogger, type Logger } from '@wsgate/core';
import type { UpstreamNode } from '../node.js';
import type { StreamPool, StreamSettings } from './stream-pool.js';

/** What the UDP and TCP relays share: their pool, where they listen, and their log lines. */
export abstract class RelayBase {
  protected bound: { host: string; port: number } | undefined;
  protected readonly log: Logger;

  constructor(
    protected readonly pool: StreamPool,
    protected readonly settings: StreamSettings,
    protocol: 'udp' | 'tcp',
  ) {
    this.log = (settings.logger ?? silentLogger).child({ relay: `${protocol} ${settings.host}:${settings.port}` });
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
}
