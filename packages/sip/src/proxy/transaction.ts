import { type Connection, detachedString } from '@wsgate/core';
import type { Flow } from './flow.js';
import type { SipRequest, SipResponse } from '../message.js';

/** A final answer made here for a branch that got none (timeout, closed flow): §16.7's "408 for the branch". */
export interface Synthetic {
  readonly status: number;
  readonly reason: string;
}

/** One client transaction of a proxy transaction: the copy sent to one contact (§16.6) and what it answered. */
export class Branch {
  /** a provisional response came (1xx): an INVITE branch that may be cancelled */
  provisional = false;
  /** set when the branch completed: the response it gave, or one made here */
  final: SipResponse | Synthetic | undefined = undefined;
  cancelled = false;
  private held: SipRequest | undefined;

  constructor(
    /** this proxy's Via branch parameter, the key responses are matched by (§17.1.3) */
    readonly id: string,
    readonly tx: ProxyTransaction,
    request: SipRequest,
    /** the callee's WebSocket, here or on another gateway */
    readonly flow: Flow,
  ) {
    this.held = request;
  }

  /** the copy sent on this branch (none once its transaction is forgotten: see ProxyTransaction.release()) */
  get request(): SipRequest {
    return this.held ?? forgotten(`branch ${this.id}`);
  }

  /** Lets go of the messages; `final` keeps only status and reason, so the branch still reads as completed. */
  release(): void {
    this.held = undefined;
    this.final = this.final === undefined ? RELEASED : { status: this.final.status, reason: this.final.reason };
  }
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
  /** the server transaction's key (§17.2.3): top Via branch, sent-by, method (ACK and CANCEL matched as INVITE) */
  readonly key: string;
  readonly method: string;
  private held: SipRequest | undefined;

  constructor(key: string, request: SipRequest, readonly caller: Connection) {
    // serverKey() joins cuts of the request's head, which would keep the whole head alive as long as the key
    this.key = detachedString(key);
    this.held = request;
    this.method = request.method;
  }

  /** the request received (none once the transaction is forgotten: see release()) */
  get request(): SipRequest {
    return this.held ?? forgotten(`transaction ${this.key}`);
  }

  /** every branch has a final answer */
  get complete(): boolean {
    return this.branches.every((b) => b.final !== undefined);
  }

  /**
   * The proxy forgot this transaction: it lets go of its messages (the request, the branches' copies and
   * answers, the last response sent). What still points at it may be dead and yet count as alive to young
   * collections: a copy of it promoted to the old generation (kept there until the next full collection), or an
   * obsolete table of a Map or Set it passed through (V8 links each to its successor, entries kept). Holding
   * its messages, it had every relayed MESSAGE's parsed request and response promoted (about 10 KB each).
   */
  release(): void {
    this.held = undefined;
    this.lastSent = undefined;
    for (const b of this.branches) b.release();
  }
}

/** What a released branch that never completed reads as: completed, so that nothing settles its transaction again. */
const RELEASED: Synthetic = { status: 0, reason: 'transaction forgotten' };

function forgotten(what: string): never {
  throw new Error(`SIP proxy: ${what} was read after the transaction was forgotten`);
}

/** The server transaction key of RFC 3261 §17.2.3 (branch with the magic cookie, sent-by, method). */
export function serverKey(request: SipRequest, method = request.method): string {
  const v = request.topVia;
  return `${v.branch ?? ''} ${v.host.toLowerCase()}:${v.port ?? ''} ${method === 'ACK' ? 'INVITE' : method}`;
}
