import { randomBytes } from 'node:crypto';
import type { Connection, Logger } from '@wsgate/core';
import { STORE_RETRY_AFTER } from '@wsgate/routes';
import { type SipRequest, SipResponse } from '../message.js';
import { createResponse } from '../respond.js';
import { serialize } from '../serialize.js';
import type { SipAuthenticator } from '../auth/authenticator.js';
import type { SipMetrics } from '../observe/sip-metrics.js';
import type { Registrar } from '../registrar/registrar.js';
import { bestResponse } from './best-response.js';
import { destinationOf, type DestinationRules } from './destination.js';
import { FlowTokens } from './flow-token.js';
import { ackFor, branchRequest, cancelFor, stampReceived } from './forward.js';
import type { Flow } from './flow.js';
import { Deadlines } from './deadlines.js';
import { Branch, ProxyTransaction, serverKey, type Synthetic } from './transaction.js';

export interface ProxyOptions {
  /** the SIP domains served: requests for them are routed through the registrar's location service */
  readonly domains: ReadonlySet<string>;
  readonly registrar: Registrar;
  /** this gateway's name in flow ids, as the registrar's `node` */
  readonly node: string;
  /** the proxy's host in its Via and Record-Route; default the first domain */
  readonly host: string;
  /** the WebSocket of a flow (`<node>/<connection id>`): this process's, or another gateway's through the shared directory */
  connection(flow: string): Flow | undefined;
  /** challenges out-of-dialog requests with 407 (absent: none) */
  readonly auth?: SipAuthenticator | undefined;
  /** known users: an AOR with no binding is 404 for an unknown user, 480 for a known one (absent: always 480) */
  readonly users?: ((user: string) => boolean | Promise<boolean>) | undefined;
  /** flow-token key, the same on gateways that see the same dialogs (or how to get it); default random per process */
  readonly secret?: string | (() => Promise<string>) | undefined;
  /** Timer C: seconds an INVITE may go without a final answer (each provisional restarts it); default 180 */
  readonly inviteTimeout?: number | undefined;
  /** Timer F: seconds any other request may wait for its final answer; default 32 */
  readonly requestTimeout?: number | undefined;
  /** proxy transactions one connection may have open at once (more: 503); default 64 */
  readonly maxTransactions?: number | undefined;
  readonly logger?: Logger | undefined;
  /** counts responses sent or relayed and messages dropped (`sipMetrics()`) */
  readonly metrics?: SipMetrics | undefined;
}

export interface ProxyStats {
  /** requests forwarded (each branch counts) */
  forwarded: number;
  /** responses relayed upstream */
  relayed: number;
  /** answers made here (4xx/5xx refusals, 408, 480 …) */
  answered: number;
  /** responses and ACKs that matched nothing and were dropped */
  stray: number;
}

export interface SipProxy {
  /** A request received on `conn`, parsed; REGISTER and requests for this server are not its business (see `here`). */
  request(conn: Connection, request: SipRequest): Promise<void>;
  /**
   * A response received on the WebSocket `from` (a connection id: this process's, or another gateway's that
   * posted it here): matched to its branch by this proxy's Via and relayed upstream. False when no branch of
   * this process sent the request it answers.
   */
  response(from: number, response: SipResponse): boolean;
  /** The WebSocket closed: its branches count as 480, its own pending INVITEs are cancelled. */
  connectionClosed(conn: Connection): void;
  /** proxy transactions alive now */
  readonly transactions: number;
  readonly stats: ProxyStats;
  close(): void;
}

/** Answers requests addressed to this server itself (REGISTER, OPTIONS to the domain): the service's part. */
export type HereHandler = (conn: Connection, request: SipRequest) => Promise<void> | void;

const INVITE_LINGER_MS = 32_000; // RFC 6026 Timer L: 2xx retransmissions and late 2xx of other branches still relayed
/** Sent with a 503 whose cause (a store out of reach) is expected to pass: RFC 3261 §21.5.4. */
const RETRY: ReadonlyArray<readonly [string, string]> = [['Retry-After', String(STORE_RETRY_AFTER)]];
/** How every wsgate proxy's branch ids begin: RFC 3261's magic cookie and `wg`. */
export const BRANCH_PREFIX = 'z9hG4bKwg';
const CANCELLED_ELSEWHERE = 'SIP;cause=200;text="Call completed elsewhere"';

/**
 * A stateful SIP proxy for phones on WebSockets (RFC 3261 §16 with the transaction state of §17 it needs,
 * RFC 5626 flows, RFC 7118): requests for an address-of-record go to every contact registered for it, over
 * each contact's own WebSocket, in parallel; in-dialog requests follow the signed flow tokens of this proxy's
 * Record-Route; responses come back through the transaction they belong to.
 */
export function sipProxy(options: ProxyOptions, here: HereHandler): SipProxy {
  // The flow tokens' key may come from the store (shared by the gateways that see one dialog): known before
  // the first request is routed.
  const host = options.host.toLowerCase();
  let rules: DestinationRules | undefined;
  let keying: Promise<DestinationRules> | undefined;
  const keyed = (): Promise<DestinationRules> =>
    (keying ??= (async () => {
      const tokens = new FlowTokens(typeof options.secret === 'function' ? await options.secret() : options.secret);
      return (rules = { domains: options.domains, host, tokens });
    })().catch((err: unknown) => {
      keying = undefined; // the store was out of reach: the next request asks again
      throw err;
    }));
  const inviteTimeout = (options.inviteTimeout ?? 180) * 1000;
  const requestTimeout = (options.requestTimeout ?? 32) * 1000;
  const maxTransactions = options.maxTransactions ?? 64;
  const log = options.logger;
  const metrics = options.metrics;
  const stats: ProxyStats = { forwarded: 0, relayed: 0, answered: 0, stray: 0 };

  const servers = new Map<string, ProxyTransaction>();
  // Timer C, F and the INVITE linger of every transaction on one timer, late by at most a sixteenth of the
  // shortest (and by 1 s at most), instead of a node timer per transaction.
  const deadlines = new Deadlines<ProxyTransaction>(
    Math.min(1000, Math.max(1, Math.min(inviteTimeout, requestTimeout) / 16)),
    (tx) => expire(tx),
  );
  const branches = new Map<string, Branch>();
  const byCaller = new Map<number, Set<ProxyTransaction>>();
  const byCallee = new Map<number, Set<Branch>>();

  // Branch ids: RFC 3261's magic cookie, a per-process prefix, a counter: unique without a random draw per request.
  const prefix = `${BRANCH_PREFIX}${randomBytes(4).toString('hex')}`;
  let counter = 0;
  const flowOf = (connectionId: number) => `${options.node}/${connectionId}`;
  const isOpen = (conn: Connection) => conn.state === 'open';
  // `tx`: the connection the transaction's request came in on, so that a gateway that receives the response on
  // another node's behalf can post it to the process running the transaction (`ProxyOptions.connection`).
  const viaOf = (target: Flow, branch: string, caller?: Connection) =>
    `SIP/2.0/${target.secure ? 'WSS' : 'WS'} ${options.host};branch=${branch}${caller === undefined ? '' : `;tx=${caller.id}`}`;
  // only once a request was routed, so the key is known
  const recordRoute = (flow: string) => `<sip:${rules!.tokens.sign(flow)}@${options.host};transport=ws;lr>`;

  function send(conn: Connection, message: SipRequest | SipResponse): void {
    if (isOpen(conn)) conn.send(serialize(message), { binary: false });
  }

  /** Sends on a flow; a flow that turns out gone makes `gone` run (a branch's 480). */
  function sendOn(flow: Flow, message: SipRequest, gone?: () => void): void {
    const sent = flow.send(serialize(message));
    if (sent === false) gone?.();
    else if (sent !== true) sent.then((ok) => ok || gone?.(), () => gone?.());
  }

  function answer(conn: Connection, request: SipRequest, status: number, reason: string, headers: ReadonlyArray<readonly [string, string]> = []): void {
    stats.answered++;
    metrics?.response(status);
    if (status >= 400 && status !== 407 && log?.isLevelEnabled('info')) {
      log.info({ callId: request.callId, method: request.method, status, reason, connection: conn.id }, 'SIP request refused');
    }
    send(conn, createResponse(request, status, reason, { headers }));
  }

  async function request(conn: Connection, req: SipRequest): Promise<void> {
    if (req.method === 'CANCEL') return cancel(conn, req);
    // read before stampReceived() rewrites the top Via (same branch and sent-by), so it is not read twice
    const key = serverKey(req);
    const existing = servers.get(key);
    if (req.method === 'ACK') {
      // the ACK of a non-2xx final answer ends our server transaction (§17.2.1); a 2xx's ACK is end to end
      if (existing !== undefined && existing.answered !== undefined && existing.answered >= 300) return;
    } else if (existing !== undefined) {
      // a retransmission (a UA over a reliable transport should not send one): answer with what was sent, if anything
      if (existing.lastSent !== undefined && isOpen(conn)) conn.send(existing.lastSent, { binary: false });
      return;
    }
    const mf = req.maxForwards;
    if (mf === 0 && req.method !== 'ACK') return answer(conn, req, 483, 'Too Many Hops');
    if (req.via.length > 1 && loops(req)) return answer(conn, req, 482, 'Loop Detected');
    stampReceived(req, conn.remoteAddress, conn.remotePort);

    const fromFlow = flowOf(conn.id);
    let known = rules;
    if (known === undefined) {
      try {
        known = await keyed();
      } catch {
        return answer(conn, req, 503, 'Service Unavailable: flow-token key store unavailable', RETRY);
      }
    }
    const dest = destinationOf(req, fromFlow, known);
    if (dest.kind === 'refuse') return req.method === 'ACK' ? dropStray() : answer(conn, req, dest.status, dest.reason);
    if (dest.kind === 'here' || (req.method === 'REGISTER' && dest.kind === 'aor')) {
      if (req.method === 'ACK') return; // the ACK of a final answer made here (a 407, a 480): nothing more to do
      return here(conn, req);
    }
    if (dest.kind === 'flow') {
      // in dialog: to the other end's WebSocket, which is gone if that phone reconnected (RFC 5626 §5.3: 430)
      const target = options.connection(dest.flow);
      if (target === undefined || !target.open) {
        return req.method === 'ACK' ? dropStray() : answer(conn, req, 430, 'Flow Failed');
      }
      if (req.method === 'ACK') return forwardStateless(req, target, dest.ownRoutes);
      return startTransaction(conn, req, key, [target], undefined, dest.ownRoutes);
    }
    // an address-of-record of ours: authenticate the caller for a new dialog or out-of-dialog request, then look up
    if (req.method === 'ACK') return; // the ACK of a final answer made here: a 407 challenge, a 480, a 404
    if (options.auth !== undefined && req.toTag === undefined) {
      const result = await options.auth.authenticate(conn, req, 'proxy');
      if (!('user' in result)) return answer(conn, req, result.status, result.reason, result.headers);
    }
    let bindings;
    try {
      bindings = await options.registrar.lookup(dest.aor);
    } catch {
      // the location service's store is out of reach (Redis): the caller may try again shortly
      return answer(conn, req, 503, 'Service Unavailable: location store unavailable', RETRY);
    }
    // each open contact's flow, and its URI at the same index
    const flows: Flow[] = [];
    const uris: string[] = [];
    for (const b of bindings) {
      const target = options.connection(b.flow);
      if (target === undefined || !target.open) continue;
      flows.push(target);
      uris.push(b.uri);
    }
    if (!isOpen(conn)) return;
    if (flows.length === 0) {
      if (options.users !== undefined && !(await options.users(dest.user))) return answer(conn, req, 404, 'Not Found');
      return answer(conn, req, 480, 'Temporarily Unavailable');
    }
    return startTransaction(conn, req, key, flows, uris, dest.ownRoutes);
  }

  function dropStray(): void {
    stats.stray++;
    metrics?.dropped('stray');
  }

  /** A request came back with a Via of ours on a branch that carried the same request: a loop, not a spiral (§16.3 step 4). */
  function loops(req: SipRequest): boolean {
    for (const v of req.via.slice(1)) {
      if (v.host.toLowerCase() !== host || v.branch === undefined || !v.branch.startsWith(prefix)) continue;
      const b = branches.get(v.branch);
      if (b !== undefined && b.request.requestUri === req.requestUri && b.request.callId === req.callId && b.request.cseq.seq === req.cseq.seq) return true;
    }
    return false;
  }

  /** A 2xx's ACK is its own transaction and gets no answer (§17.1.1.3): sent on, nothing kept. */
  function forwardStateless(req: SipRequest, target: Flow, ownRoutes: number): void {
    const branch = `${prefix}${(counter++).toString(36)}`;
    stats.forwarded++;
    sendOn(target, branchRequest(req, { via: viaOf(target, branch), ownRoutes }));
  }

  function startTransaction(caller: Connection, req: SipRequest, key: string, targets: Flow[], uris: string[] | undefined, ownRoutes: number): void {
    let mine = byCaller.get(caller.id);
    if (mine !== undefined && mine.size >= maxTransactions) {
      return answer(caller, req, 503, `Service Unavailable: more than ${maxTransactions} transactions open on this connection`);
    }
    const tx = new ProxyTransaction(key, req, caller);
    servers.set(tx.key, tx);
    if (mine === undefined) byCaller.set(caller.id, (mine = new Set()));
    mine.add(tx);
    // an initial request that may create a dialog gets this proxy on its route set, one entry per side (RFC 5626 §5.3)
    const dialogForming = uris !== undefined && req.toTag === undefined && DIALOG_FORMING.has(req.method);
    const callerFlow = dialogForming ? flowOf(caller.id) : '';
    for (let i = 0; i < targets.length; i++) {
      const target = targets[i]!;
      const id = `${prefix}${(counter++).toString(36)}`;
      const copy = branchRequest(req, {
        uri: uris?.[i],
        via: viaOf(target, id, caller),
        recordRoute: dialogForming ? [recordRoute(flowOf(target.id)), recordRoute(callerFlow)] : undefined,
        ownRoutes,
      });
      const branch = new Branch(id, tx, copy, target);
      tx.branches.push(branch);
      branches.set(id, branch);
      let theirs = byCallee.get(target.id);
      if (theirs === undefined) byCallee.set(target.id, (theirs = new Set()));
      theirs.add(branch);
    }
    if (req.method === 'INVITE') {
      // 100 Trying at once (§16.2): the caller stops waiting for us; the phones' 180 follows
      const trying = serialize(createResponse(req, 100, 'Trying'));
      metrics?.response(100);
      if (isOpen(caller)) caller.send(trying, { binary: false });
    }
    armTimer(tx);
    if (log?.isLevelEnabled('debug')) {
      log.debug({ callId: req.callId, method: req.method, branches: tx.branches.length, connection: caller.id }, 'SIP request forwarded');
    }
    for (const b of tx.branches) {
      stats.forwarded++;
      sendOn(b.flow, b.request, () => flowGone(b));
    }
  }

  function armTimer(tx: ProxyTransaction): void {
    deadlines.arm(tx, tx.method === 'INVITE' ? inviteTimeout : requestTimeout);
  }

  /** Timer C or F fired: every branch still pending is 408 (an INVITE branch that rang is cancelled too). */
  function expire(tx: ProxyTransaction): void {
    if (tx.lingering) return forget(tx);
    for (const b of tx.branches) {
      if (b.final !== undefined) continue;
      if (tx.method === 'INVITE' && b.provisional && !b.cancelled) {
        b.cancelled = true;
        sendOn(b.flow, cancelFor(b.request));
      }
      b.final = { status: 408, reason: 'Request Timeout' };
    }
    settle(tx);
  }

  function response(from: number, res: SipResponse): boolean {
    const id = res.topVia.branch;
    const branch = id === undefined ? undefined : branches.get(id);
    if (branch === undefined) return false;
    if (branch.flow.id !== from || (res.cseq.method !== branch.request.method && res.cseq.method !== 'CANCEL')) {
      dropStray();
      return true;
    }
    if (res.cseq.method !== 'CANCEL') branchAnswered(branch, res); // the 200 to our CANCEL: the INVITE's 487 is what matters
    return true;
  }

  function branchAnswered(branch: Branch, res: SipResponse): void {
    const tx = branch.tx;
    if (res.status < 200) {
      if (branch.final !== undefined) return;
      branch.provisional = true;
      if (res.status === 100) return; // hop by hop (§16.7 step 5)
      if (tx.method === 'INVITE' && tx.answered === undefined) armTimer(tx);
      if (tx.answered === undefined) relay(tx, res);
      return;
    }
    const ok = res.status < 300;
    if (branch.final !== undefined) {
      // RFC 6026: a retransmitted 2xx still goes upstream, so the caller's ACK can stop it
      if (ok && tx.method === 'INVITE') relay(tx, res);
      return;
    }
    branch.final = res;
    if (!ok && tx.method === 'INVITE') sendOn(branch.flow, ackFor(branch.request, res));
    if (ok) {
      relay(tx, res);
      tx.answered ??= res.status;
      if (tx.method === 'INVITE') cancelPending(tx, CANCELLED_ELSEWHERE);
    } else if (res.status >= 600 && tx.method === 'INVITE') {
      cancelPending(tx);
    }
    settle(tx);
  }

  function cancelPending(tx: ProxyTransaction, reason?: string): void {
    for (const b of tx.branches) {
      if (b.final !== undefined || b.cancelled) continue;
      b.cancelled = true;
      sendOn(b.flow, cancelFor(b.request, reason));
    }
  }

  /** Sends the best final answer once every branch completed, and forgets the transaction when nothing more can come. */
  function settle(tx: ProxyTransaction): void {
    if (!tx.complete) return;
    if (tx.answered === undefined) {
      const finals = tx.branches.map((b) => b.final!);
      const best = bestResponse(finals);
      tx.answered = best.status;
      if (best instanceof SipResponse) {
        // §16.7 step 6: a 503 from downstream must not make the caller think this proxy is unavailable
        relay(tx, best.status === 503 ? new SipResponse(500, 'Server Internal Error', best.headers, best.body) : best);
      } else {
        stats.answered++;
        metrics?.response(best.status);
        const made = serialize(createResponse(tx.request, best.status, best.reason));
        tx.lastSent = made;
        if (isOpen(tx.caller)) tx.caller.send(made, { binary: false });
      }
    }
    if (tx.method === 'INVITE') {
      // kept a while for 2xx retransmissions (RFC 6026) and for the ACK of a non-2xx answer
      tx.lingering = true;
      deadlines.arm(tx, INVITE_LINGER_MS);
      byCaller.get(tx.caller.id)?.delete(tx);
    } else {
      forget(tx);
    }
  }

  function forget(tx: ProxyTransaction): void {
    deadlines.cancel(tx);
    if (servers.get(tx.key) === tx) servers.delete(tx.key);
    const mine = byCaller.get(tx.caller.id);
    mine?.delete(tx);
    if (mine?.size === 0) byCaller.delete(tx.caller.id);
    for (const b of tx.branches) {
      branches.delete(b.id);
      const theirs = byCallee.get(b.flow.id);
      theirs?.delete(b);
      if (theirs?.size === 0) byCallee.delete(b.flow.id);
    }
    tx.release();
  }

  /** A response upstream: this proxy's Via removed (§16.7 step 9), sent over the caller's WebSocket. */
  function relay(tx: ProxyTransaction, res: SipResponse): void {
    res.headers.shiftValue('via');
    const bytes = serialize(res);
    stats.relayed++;
    metrics?.response(res.status);
    if (res.status >= 200) tx.lastSent = bytes;
    if (isOpen(tx.caller)) tx.caller.send(bytes, { binary: false });
  }

  /** CANCEL (§16.10): 200 at once when it matches an INVITE in progress, then CANCEL on every branch still pending. */
  function cancel(conn: Connection, req: SipRequest): void {
    stampReceived(req, conn.remoteAddress, conn.remotePort);
    const tx = servers.get(serverKey(req, 'INVITE'));
    if (tx === undefined || tx.caller !== conn) return answer(conn, req, 481, 'Call/Transaction Does Not Exist');
    answer(conn, req, 200, 'OK');
    if (tx.answered === undefined) cancelPending(tx, req.headers.get('reason'));
  }

  /** The callee's WebSocket is gone (closed here, or its holder says so): the branch is 480, as if it had answered. */
  function flowGone(b: Branch): void {
    if (b.final !== undefined) return;
    b.final = { status: 480, reason: 'Temporarily Unavailable' } satisfies Synthetic;
    settle(b.tx);
  }

  function connectionClosed(conn: Connection): void {
    // its branches will never answer: 480 for each, so their transactions can settle
    for (const b of [...(byCallee.get(conn.id) ?? [])]) flowGone(b);
    // its own INVITEs still ringing elsewhere: nobody is left to answer, so the phones stop ringing
    const mine = byCaller.get(conn.id);
    if (mine !== undefined) {
      for (const tx of [...mine]) {
        if (tx.method === 'INVITE' && tx.answered === undefined) cancelPending(tx, 'SIP;cause=487;text="caller gone"');
      }
    }
  }

  return {
    request,
    response,
    connectionClosed,
    get transactions() {
      return servers.size;
    },
    stats,
    close() {
      for (const tx of [...servers.values()]) forget(tx);
      deadlines.clear();
    },
  };
}

/** Requests that may create a dialog (RFC 3261 INVITE, RFC 6665 SUBSCRIBE, RFC 3515 REFER): these are record-routed. */
const DIALOG_FORMING = new Set(['INVITE', 'SUBSCRIBE', 'REFER']);
