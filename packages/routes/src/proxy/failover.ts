/**
 * The loop every relay shares: try nodes in the balancer's order until one attempt is done (relayed, or
 * answered by the upstream), a failure may not move on (something was already relayed), or no node is left;
 * then the client gets the failure's 502 or 504.
 */
import type { Duplex } from 'node:stream';
import type { Carrier, ForwardResult, ProxiedRequest } from '@wsgate/core';
import { answerFailure } from './answers.js';
import { NodePicker, type NodeSource } from '../upstream/node-picker.js';
import type { UpstreamNode } from '../upstream/node.js';
import type { UpstreamFailure } from '../upstream/upstream-error.js';

/**
 * The outcome of one try on one node: done, with the status the client got when the relay knows it (101,
 * the upstream's refusal, 499 for a client that left); or a failure.
 */
export type Attempt = { done: true; status?: number } | { done: false; failure: UpstreamFailure; err: unknown; retryable: boolean };

/** Resolves with what the client was answered and the upstream failures met on the way, for core's counters. */
export async function tryNodes(pool: NodeSource, req: ProxiedRequest<any>, carrier: Carrier, attempt: (node: UpstreamNode) => Promise<Attempt>): Promise<ForwardResult | void> {
  const picker = new NodePicker(pool, req.clientIp, () => req.log);
  let failure: UpstreamFailure | undefined;
  for (let node = picker.next(); node !== undefined; node = picker.next()) {
    const a = await attempt(node);
    if (a.done) return { status: a.status ?? carrier.res?.statusCode ?? 0, upstreamErrors: picker.errors };
    if (!picker.failed(node, a.err, a.failure, a.retryable)) {
      failure = a.failure;
      break;
    }
  }
  failure ??= picker.finalFailure();
  answerFailure(carrier, failure);
  return { status: failure.status, upstreamErrors: picker.errors };
}

function destroyOnError(this: Duplex): void {
  this.destroy();
}

/**
 * Holds an upgrade request's socket while nodes are tried: nothing is read from it (early frames must not
 * reach an upstream that has not switched protocols), and a reset from the client only closes it.
 */
export function holdClient(client: Duplex): void {
  client.pause();
  client.on('error', destroyOnError);
}

/** The relay takes the client's socket over (its own error handling, its own reading). */
export function releaseClient(client: Duplex): void {
  client.removeListener('error', destroyOnError);
}
