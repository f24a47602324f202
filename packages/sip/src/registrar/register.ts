import { detachedString } from '@wsgate/core';
import type { SipRequest } from '../message.js';
import { formatParams, type Params } from '../params.js';
import { formatUri } from '../uri.js';
import { type Binding, sameBindingKey } from './bindings.js';

/** The REGISTER processing of RFC 3261 §10.3 with RFC 5626 §6, as pure steps over the AOR's bindings. */

export interface RegisterLimits {
  readonly domains: ReadonlySet<string>;
  readonly minExpires: number;
  readonly maxExpires: number;
  readonly defaultExpires: number;
  readonly maxBindings: number;
}

/** A refusal: status, reason, extra headers (Min-Expires, Unsupported). */
export interface Refusal {
  readonly status: number;
  readonly reason: string;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
}

/** What a REGISTER asks for, read and checked before the AOR's bindings are loaded. */
export interface RegisterPlan {
  readonly aor: string;
  readonly callId: string;
  readonly cseq: number;
  /** `*`: remove all (Expires: 0 checked) */
  readonly wildcard: boolean;
  readonly contacts: readonly PlannedContact[];
  /** a Contact carried reg-id: the 200 says `Require: outbound` (RFC 5626 §6) */
  readonly outbound: boolean;
}

/** A Contact of a REGISTER as it will be bound: its binding's fields but those the request and the flow give, and its expiry in seconds. */
export type PlannedContact = Omit<Binding, 'callId' | 'cseq' | 'expiresAt' | 'flow'> & { readonly expires: number };

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const SUPPORTED = new Set(['outbound', 'path', 'gruu']);

/** The canonical AOR of a To URI (`sip:user@host`, host lower-cased), or a refusal. */
export function addressOfRecord(request: SipRequest, domains: ReadonlySet<string>): string | Refusal {
  const uri = request.to.uri;
  if (uri.type !== 'sip' || uri.user === undefined) return { status: 404, reason: 'To is not a SIP address-of-record' };
  const host = uri.host.toLowerCase();
  if (!domains.has(host)) return { status: 404, reason: `To domain ${host} is not served here` };
  return `sip:${uri.user}@${host}`;
}

/** RFC 3261 §10.3 steps 1-6: Request-URI domain, Require, To, Contact and expiry checks. */
export function planRegister(request: SipRequest, limits: RegisterLimits): RegisterPlan | Refusal {
  const ruri = request.uri;
  // Step 1: no proxy behind this registrar yet, so a REGISTER for another domain is refused, not forwarded.
  if (ruri.type !== 'sip' || !limits.domains.has(ruri.host.toLowerCase())) {
    return { status: 403, reason: `domain ${ruri.type === 'sip' ? ruri.host : ruri.scheme} is not served here` };
  }
  const unsupported = request.headers.has('require') ? request.tokens('require').filter((t) => !SUPPORTED.has(t.toLowerCase())) : [];
  if (unsupported.length > 0) {
    return { status: 420, reason: 'Bad Extension', headers: [['Unsupported', unsupported.join(', ')]] };
  }
  const canonical = addressOfRecord(request, limits.domains);
  if (typeof canonical !== 'string') return canonical;
  // What a binding keeps lives as long as the registration: copies, not views that would keep the REGISTER's text.
  const aor = detachedString(canonical);
  const callId = detachedString(request.callId);
  const cseq = request.cseq.seq;
  const contacts = request.headers.has('contact') ? request.contacts() : [];
  const headerExpires = request.expires();
  if (contacts === '*') {
    if (headerExpires !== 0) return { status: 400, reason: 'Contact * needs Expires: 0' };
    return { aor, callId, cseq, wildcard: true, contacts: [], outbound: false };
  }
  if (contacts.length > limits.maxBindings) return { status: 403, reason: `more than ${limits.maxBindings} Contacts` };
  let regIds = 0;
  let regIdWithoutInstance = false;
  for (const c of contacts) {
    if (c.regId === undefined) continue;
    regIds++;
    if (c.instance === undefined) regIdWithoutInstance = true;
  }
  // RFC 5626 §6: one flow per REGISTER; reg-id means nothing without an instance.
  if (regIds > 1) return { status: 400, reason: 'more than one Contact with reg-id' };
  if (regIdWithoutInstance) return { status: 400, reason: 'reg-id without +sip.instance' };
  // RFC 5626 §6: a flow to a UA behind another hop needs that hop's outbound Path; we have no Path support.
  if (regIds === 1 && request.via.length > 1 && !request.headers.has('path')) {
    return { status: 439, reason: 'First Hop Lacks Outbound Support' };
  }
  const planned: Array<PlannedContact> = [];
  for (const c of contacts) {
    let expires = c.expires ?? headerExpires ?? limits.defaultExpires;
    if (expires !== 0 && expires < limits.minExpires) {
      return { status: 423, reason: 'Interval Too Brief', headers: [['Min-Expires', String(limits.minExpires)]] };
    }
    expires = Math.min(expires, limits.maxExpires);
    // Literals, not spreads: an object spread is a slow generic copy, and this runs for every REGISTER.
    const uri = formatUri(c.uri);
    // formatNameAddr() with the URI formatted once, and without expires (no copy of the parameters to drop it)
    const contact = `${c.displayName === undefined ? '' : `${c.displayName} `}<${uri}>${formatParamsExcept(c.params, 'expires')}`;
    const p: Mutable<PlannedContact> = { contact: detachedString(contact), uri: detachedString(uri), expires };
    if (c.instance !== undefined) p.instance = detachedString(c.instance);
    if (c.regId !== undefined) p.regId = c.regId;
    if (c.q !== undefined) p.q = c.q;
    planned.push(p);
  }
  return { aor, callId, cseq, wildcard: false, contacts: planned, outbound: regIds === 1 };
}

/** `formatParams()` of all parameters but one. */
function formatParamsExcept(params: Params, left: string): string {
  if (!params.has(left)) return formatParams(params);
  let s = '';
  for (const [name, value] of params) if (name !== left) s += value === null ? `;${name}` : `;${name}=${value}`;
  return s;
}

/**
 * RFC 3261 §10.3 step 7, all or nothing: the AOR's bindings after the REGISTER, or 500 when a binding was
 * last refreshed by this Call-ID with a CSeq not below the request's (an out-of-order retransmission).
 */
export function applyRegister(plan: RegisterPlan, current: readonly Binding[], now: number, flow: string, maxBindings: number): Binding[] | Refusal {
  if (plan.wildcard) {
    // §10.3: `*` removes a binding unless this Call-ID already wrote it with a CSeq at or above the request's.
    return current.filter((b) => b.callId === plan.callId && b.cseq >= plan.cseq);
  }
  // In a list, not a map by key: at most maxBindings of them, compared in place (sameBindingKey).
  const next: Binding[] = [];
  for (const b of current) {
    // a key stored twice (another writer's doing) keeps its first place and its last binding, as a map would
    const at = indexOfKey(next, b);
    if (at < 0) next.push(b);
    else next[at] = b;
  }
  for (const c of plan.contacts) {
    const at = indexOfKey(next, c);
    const old = at < 0 ? undefined : next[at]!;
    if (old !== undefined && old.callId === plan.callId && plan.cseq <= old.cseq) {
      return { status: 500, reason: 'Server Internal Error: CSeq out of order for this Call-ID' };
    }
    if (c.expires === 0) {
      if (at >= 0) next.splice(at, 1);
      continue;
    }
    // a new flow for the same key replaces the old one (RFC 5626 §4.2.1 flow recovery)
    const b: Mutable<Binding> = { contact: c.contact, uri: c.uri, callId: plan.callId, cseq: plan.cseq, expiresAt: now + c.expires * 1000, flow };
    if (c.instance !== undefined) b.instance = c.instance;
    if (c.regId !== undefined) b.regId = c.regId;
    if (c.q !== undefined) b.q = c.q;
    if (at >= 0) next[at] = b;
    else next.push(b);
  }
  if (next.length > maxBindings) return { status: 403, reason: `more than ${maxBindings} bindings for ${plan.aor}` };
  return next;
}

/** Where in `list` the binding with the same key as `b` is, or -1. */
function indexOfKey(list: readonly Binding[], b: Pick<Binding, 'uri' | 'instance' | 'regId'>): number {
  for (let i = 0; i < list.length; i++) if (sameBindingKey(list[i]!, b)) return i;
  return -1;
}

/** The Contact values of a 200: every binding with the seconds it has left (RFC 3261 §10.3 step 8). */
export function listContacts(bindings: readonly Binding[], now: number): string[] {
  return bindings.map((b) => `${b.contact};expires=${Math.max(0, Math.ceil((b.expiresAt - now) / 1000))}`);
}
