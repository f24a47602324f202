/**
 * The nodes one request tries, in the balancer's order: a failed connect moves to the next node (nginx
 * `proxy_next_upstream error timeout`) until `tries` is reached or no usable node is left. Every failure is
 * logged with the upstream and the cause, counted against the node (passive health), and kept for the
 * gateway's `wsgate_upstream_errors_total`. The first try allocates nothing beyond the picker itself.
 */
import type { Logger } from '@wsgate/core';
import type { SelectionContext } from './balance/balancer.js';
import type { UpstreamNode } from './node.js';
import type { UpstreamFailure } from './upstream-error.js';

/** What a pool offers the picker. */
export interface NodeSource {
  readonly nodeCount: number;
  readonly tries: number;
  /** A primary if one is usable, else a backup. */
  pick(ctx: SelectionContext): UpstreamNode | undefined;
}

/** A failure as core counts it. */
export interface UpstreamErrorRecord {
  readonly upstream: string;
  readonly cause: string;
}

export class NodePicker implements SelectionContext {
  /** Nodes tried before the current one (undefined on the first try, as balancers expect). */
  tried: Set<UpstreamNode> | undefined;
  now = 0;
  private attempts = 0;
  private current: UpstreamNode | undefined;
  /** The last failure, for the client's answer when no node is left. */
  last: UpstreamFailure | undefined;
  /** Every failure, in order; undefined while there is none. */
  errors: UpstreamErrorRecord[] | undefined;

  /** @param log asked for only when something is logged (a request's logger is made on first use). */
  constructor(
    private readonly pool: NodeSource,
    readonly clientIp: string,
    private readonly log: () => Logger,
  ) {}

  /** The next node to try, or undefined when the request has run out of them. */
  next(): UpstreamNode | undefined {
    if (this.attempts >= this.pool.tries) return undefined;
    if (this.current !== undefined) (this.tried ??= new Set()).add(this.current);
    this.now = Date.now();
    const node = this.pool.pick(this);
    if (node === undefined) return undefined;
    this.attempts++;
    this.current = node;
    return node;
  }

  /** A node failed; returns whether the caller may try the next one. */
  failed(node: UpstreamNode, err: unknown, failure: UpstreamFailure, retryable: boolean): boolean {
    this.last = failure;
    (this.errors ??= []).push({ upstream: node.address.label, cause: failure.reason });
    if (failure.connectFailure) node.recordFailure(Date.now(), this.pool.nodeCount === 1);
    this.log().warn(
      { upstream: node.address.label, node: node.name, status: failure.status, reason: failure.reason, err: err instanceof Error ? err : String(err) },
      'upstream failed',
    );
    return retryable;
  }

  /** The answer when no node is left: the last failure, or nginx's "no live upstreams". */
  finalFailure(): UpstreamFailure {
    if (this.last) return this.last;
    this.log().warn({ nodes: this.pool.nodeCount }, 'no live upstreams');
    return { status: 502, reason: 'no live upstreams', connectFailure: false };
  }
}
