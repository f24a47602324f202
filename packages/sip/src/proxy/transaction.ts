import type { Connection } from '@wsgate/core';
import type { Flow } from './flow.js';
import type { SipRequest, SipResponse } from '../message.js';

/** A final answer made here for a branch that got none (timeout, closed flow): §16.7's "408 for the branch". */
export interface Synthetic {
  readonly status: number;
  readonly reason: string;
}

/** One client transaction of a proxy transaction: the copy sent to one contact (§16.6) and what it answered. */
export interface Branch {
  /** this proxy's Via branch parameter, the key responses are matched by (§17.1.3) */
  readonly id: string;
  readonly tx: ProxyTransaction;
  readonly request: SipRequest;
  /** the callee's WebSocket, here or on another gateway */
  readonly flow: Flow;
  /** a provisional response came (1xx): an INVITE branch that may be cancelled */
  provisional: boolean;
  /** set when the branch completed: the response it gave, or one made here */
  final: SipResponse | Synthetic | undefined;
  cancelled: boolean;
}

/**
 * A stateful proxy's transaction (RFC 3261 §16, Kamailio tm's "cell"): the server transaction of the request
 * received and the client transactions of its branches.
 */
export class ProxyTransaction {
  readonly branches: Branch[] = [];
  /** the status of the final response sent upstream (the first 2xx, or the best once all branches completed) */
  answered: number | undefined;
  /** the last response sent upstream, for a retransmitted request */
  lastSent: Buffer | undefined;
  /** Answered and kept only for late responses and ACKs (its deadline forgets it rather than answering 408). */
  lingering = false;

  constructor(
    /** the server transaction's key (§17.2.3): top Via branch, sent-by, method (ACK and CANCEL matched as INVITE) */
    readonly key: string,
    readonly request: SipRequest,
    readonly caller: Connection,
  ) {}

  get method(): string {
    return this.request.method;
  }

  /** every branch has a final answer */
  get complete(): boolean {
    return this.branches.every((b) => b.final !== undefined);
  }
}

/** The server transaction key of RFC 3261 §17.2.3 (branch with the magic cookie, sent-by, method). */
export function serverKey(request: SipRequest, method = request.method): string {
  const v = request.topVia;
  return `${v.branch ?? ''} ${v.host.toLowerCase()}:${v.port ?? ''} ${method === 'ACK' ? 'INVITE' : method}`;
}
