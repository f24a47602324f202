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

/**
 * Resolves with what the client was answered and the upstream failures met on the way, for core's counters.
 * The first try, which nearly always decides, runs without an async frame of its own (one promise and one
 * microtask less per request); a failed one goes on in `afterFailure()`. A throw is a rejection, as before.
 */
export function tryNodes(pool: NodeSource, req: ProxiedRequest<any>, carrier: Carrier, attempt: (node: UpstreamNode) => Promise<Attempt>): Promise<ForwardResult | void> {
  try {
    const picker = new NodePicker(pool, req.clientIp, () => req.log);
    const node = picker.next();
    if (node === undefined) return Promise.resolve(giveUp(picker, carrier, undefined));
    return attempt(node).then((a) => (a.done ? doneWith(a, carrier, picker) : afterFailure(picker, carrier, attempt, node, a)));
  } catch (err) {
    return Promise.reject(err);
  }
}

/** After a failed try: the next nodes in the balancer's order while the failure allows moving on. */
async function afterFailure(
  picker: NodePicker,
  carrier: Carrier,
  attempt: (node: UpstreamNode) => Promise<Attempt>,
  node: UpstreamNode,
  a: Attempt & { done: false },
): Promise<ForwardResult | void> {
  if (!picker.failed(node, a.err, a.failure, a.retryable)) return giveUp(picker, carrier, a.failure);
  for (let next = picker.next(); next !== undefined; next = picker.next()) {
    const b = await attempt(next);
    if (b.done) return doneWith(b, carrier, picker);
    if (!picker.failed(next, b.err, b.failure, b.retryable)) return giveUp(picker, carrier, b.failure);
  }
  return giveUp(picker, carrier, undefined);
}

function doneWith(a: Attempt & { done: true }, carrier: Carrier, picker: NodePicker): ForwardResult {
  return { status: a.status ?? carrier.res?.statusCode ?? 0, upstreamErrors: picker.errors };
}

/** No node is left, or the failure may not move on: the client gets its 502 or 504. */
function giveUp(picker: NodePicker, carrier: Carrier, failure: UpstreamFailure | undefined): ForwardResult {
  const final = failure ?? picker.finalFailure();
  answerFailure(carrier, final);
  return { status: final.status, upstreamErrors: picker.errors };
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
