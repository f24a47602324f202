import type { SipRequest } from '../message.js';
import type { FlowTokens } from './flow-token.js';

/**
 * Where a request goes (RFC 3261 §16.4 route information, §16.5 targets), decided before anything is sent:
 * to this server itself, to the other end of a dialog (a flow named by this proxy's Record-Route), to the
 * contacts of an address-of-record, or nowhere, with the answer that says why.
 */
export type Destination =
  | { readonly kind: 'here'; readonly ownRoutes: number }
  | { readonly kind: 'flow'; readonly flow: string; readonly ownRoutes: number }
  | { readonly kind: 'aor'; readonly aor: string; readonly user: string; readonly ownRoutes: number }
  | { readonly kind: 'refuse'; readonly status: number; readonly reason: string };

export interface DestinationRules {
  /** the SIP domains served, lower case */
  readonly domains: ReadonlySet<string>;
  /** this proxy's own host name (its Via and Record-Route host), lower case */
  readonly host: string;
  readonly tokens: FlowTokens;
}

export function destinationOf(request: SipRequest, fromFlow: string, rules: DestinationRules): Destination {
  const routes = request.headers.has('route') ? request.routes() : [];
  // Loose routing: the Route values at the top that name this proxy are removed; a flow token names the flow.
  let ownRoutes = 0;
  const flows: string[] = [];
  for (const r of routes) {
    if (r.uri.type !== 'sip') break;
    const flow = r.uri.user === undefined ? undefined : rules.tokens.verify(r.uri.user);
    if (flow !== undefined) flows.push(flow);
    else if (r.uri.user !== undefined || !isOurs(r.uri.host, rules)) break;
    ownRoutes++;
  }
  if (ownRoutes < routes.length) {
    const next = routes[ownRoutes]!;
    const where = next.uri.type === 'sip' ? next.uri.host : next.uri.scheme;
    return { kind: 'refuse', status: 404, reason: `Not Found: no route to ${where} (this proxy reaches only its WebSocket flows)` };
  }
  if (flows.length > 0) {
    // Double Record-Route: one token per side of the dialog; the request goes to the side it did not come from.
    const other = flows.filter((f) => f !== fromFlow);
    return { kind: 'flow', flow: other.length > 0 ? other[other.length - 1]! : flows[flows.length - 1]!, ownRoutes };
  }
  const uri = request.uri;
  if (uri.type !== 'sip') return { kind: 'refuse', status: 416, reason: `Unsupported URI Scheme: ${uri.scheme}` };
  if (!isOurs(uri.host, rules)) {
    return { kind: 'refuse', status: 403, reason: `Relaying forbidden: ${uri.host} is not a domain of this proxy` };
  }
  if (uri.user === undefined) return { kind: 'here', ownRoutes };
  return { kind: 'aor', aor: `sip:${uri.user}@${uri.host.toLowerCase()}`, user: uri.user, ownRoutes };
}

function isOurs(host: string, rules: DestinationRules): boolean {
  const h = host.toLowerCase();
  return rules.domains.has(h) || h === rules.host;
}
