import { SipHeaders } from '../headers.js';
import { SipRequest, type SipResponse } from '../message.js';
import { formatVia } from '../via.js';

/** The messages a proxy makes from the ones it relays (RFC 3261 §16.6, §17.1.1.3, §9.1). */

export interface BranchPlan {
  /** the next hop's Request-URI (a registered contact); unchanged when absent (an in-dialog request) */
  readonly uri?: string | undefined;
  /** the Via this proxy puts on top */
  readonly via: string;
  /** Record-Route values to insert, top first (initial dialog-creating requests only) */
  readonly recordRoute?: readonly string[] | undefined;
  /** how many Route values at the top are this proxy's own, to remove (RFC 3261 §16.4 loose routing) */
  readonly ownRoutes: number;
}

/** The copy of `request` sent on one branch: §16.6 steps 2 (Request-URI), 3 (Max-Forwards), 4 (Record-Route), 6 (Route), 8 (Via). */
export function branchRequest(request: SipRequest, plan: BranchPlan): SipRequest {
  const headers = new SipHeaders(request.headers.toArray());
  const copy = new SipRequest(request.method, plan.uri ?? request.requestUri, headers, request.body);
  if (plan.uri === undefined) copy.startLine = request.startLine;
  for (let i = 0; i < plan.ownRoutes; i++) headers.shiftValue('route');
  const mf = request.maxForwards;
  headers.set('Max-Forwards', String(mf === undefined ? 70 : mf - 1));
  const rr = plan.recordRoute;
  if (rr !== undefined) for (let i = rr.length - 1; i >= 0; i--) headers.prepend('Record-Route', rr[i]!);
  headers.prepend('Via', plan.via);
  return copy;
}

/**
 * Writes where the request really came from into its top Via (RFC 3261 §18.2.1 `received`, RFC 3581 `rport`):
 * the address of the WebSocket's client, as the ingress resolved it (PROXY protocol or a trusted header included).
 */
export function stampReceived(request: SipRequest, ip: string, port: number): void {
  const top = request.topVia;
  const received = ip.includes(':') && !ip.startsWith('[') ? `[${ip}]` : ip;
  // the parameters as written, received and rport (when asked for) set in their place, received last when new
  let params = '';
  let hasReceived = false;
  for (const [name, value] of top.params) {
    if (name === 'received') {
      hasReceived = true;
      params += `;received=${received}`;
    } else if (name === 'rport') params += `;rport=${port}`;
    else params += value === null ? `;${name}` : `;${name}=${value}`;
  }
  if (!hasReceived) params += `;received=${received}`;
  const value = `${formatVia({ protocol: top.protocol, transport: top.transport, host: top.host, port: top.port })}${params}`;
  request.headers.shiftValue('via');
  request.headers.prepend('Via', value);
}

/**
 * A request a proxy makes on one branch of its own (§17.1.1.3 ACK, §9.1 CANCEL): the branch's Request-URI and
 * top Via (so the callee matches it to the INVITE), From, Call-ID and CSeq number, the given To, its Route set.
 */
function hopRequest(method: 'ACK' | 'CANCEL', branch: SipRequest, to: string, reason?: string): SipRequest {
  const headers = new SipHeaders();
  headers.add('Via', branch.headers.get('via')!);
  headers.add('Max-Forwards', '70');
  headers.add('From', branch.headers.get('from')!);
  headers.add('To', to);
  headers.add('Call-ID', branch.callId);
  headers.add('CSeq', `${branch.cseq.seq} ${method}`);
  for (const route of branch.headers.getAll('route')) headers.add('Route', route);
  // RFC 3326: tells the phones still ringing why they stop (answered elsewhere, or the caller hung up)
  if (reason !== undefined) headers.add('Reason', reason);
  headers.add('Content-Length', '0');
  return new SipRequest(method, branch.requestUri, headers);
}

/** The ACK a proxy's INVITE client transaction sends for a non-2xx final response: To as the response has it. */
export function ackFor(branch: SipRequest, response: SipResponse): SipRequest {
  return hopRequest('ACK', branch, response.headers.get('to')!);
}

/** The CANCEL of one branch's INVITE: To as the INVITE had it. */
export function cancelFor(branch: SipRequest, reason?: string): SipRequest {
  return hopRequest('CANCEL', branch, branch.headers.get('to')!, reason);
}
