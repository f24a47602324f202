import type { Logger } from '@wsgate/core';
import type { Balancer } from '../upstream/balance/balancer.js';
import type { NodeSource } from '../upstream/node-picker.js';
import type { UpstreamNode } from '../upstream/node.js';

/** The nodes of a stream relay and how it picks among them. */
export interface StreamPool extends NodeSource {
  readonly nodes: readonly UpstreamNode[];
  readonly balancer: Balancer;
}

export interface StreamSettings {
  readonly host: string;
  readonly port: number;
  readonly idleMs: number;
  readonly connectTimeoutMs: number;
  readonly maxSessions: number;
  readonly logger: Logger | undefined;
}
