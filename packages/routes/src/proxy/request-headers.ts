/**
 * The header block sent upstream (nginx's `proxy_set_header` and friends): the client's headers minus the
 * hop-by-hop ones, then Host, the real client IP, X-Forwarded-For and -Proto, the script's own headers, and
 * `Connection: upgrade` only when the client asked for an upgrade (nginx's `map $http_upgrade
 * $connection_upgrade`), `keep-alive` for a pool that keeps connections, `close` otherwise.
 */
import type { ProxiedRequest } from '@wsgate/core';
import type { ClientOffer } from './client-offer.js';
import type { UpstreamNode } from '../upstream/node.js';
import type { HeaderValue } from '../upstream/options.js';
import type { HeaderSettings } from '../upstream/settings.js';

/** Never relayed as received: they describe one hop (RFC 9110 §7.6.1), or this proxy's own business. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
  // Answered by the gateway already (node sends 100 Continue itself).
  'expect',
  'host',
  // The gateway sends its own key: the upstream's accept value then proves the 101 is a real handshake.
  'sec-websocket-key',
]);

export interface RequestHeadOptions {
  readonly settings: HeaderSettings;
  readonly node: UpstreamNode;
  /** The client's headers the proxy acts on, parsed (`readClientOffer`). */
  readonly offer: ClientOffer;
  /** The route's extra headers for this request (`pool.with({ setHeaders })`). */
  readonly extra: readonly (readonly [string, string, HeaderValue])[] | undefined;
  /** For an upgrade: the client's `Upgrade` value and the key the gateway sends. */
  readonly upgrade?: { readonly protocol: string; readonly key: string | undefined };
  /** Keep the upstream connection for the next request (a pool with `keepAlive`). */
  readonly keepAlive: boolean;
}

/** The header list for the upstream request, flat (`[name, value, name, value, …]`, as node's `rawHeaders`). */
export function upstreamRequestHeaders(req: ProxiedRequest<any>, o: RequestHeadOptions): string[] {
  const s = o.settings;
  const raw = req.raw.rawHeaders;
  const dropped = o.offer.hopByHop;
  const extra = o.extra;
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || s.replaced.has(lower) || dropped?.has(lower) || (extra && replacedBy(extra, lower))) continue;
    out.push(name, raw[i + 1]!);
  }
  out.push('Host', hostValue(req, s, o.node));
  if (s.realIp) out.push(s.realIp, s.realIpWithPort ? `${req.clientIp}:${req.clientPort}` : req.clientIp);
  if (s.forwardedFor) {
    // Most requests carry none: then the raw headers need no second pass (their names lower-cased again).
    const prior = req.headers['x-forwarded-for'] === undefined ? '' : req.headerValues('x-forwarded-for').join(', ');
    out.push('X-Forwarded-For', prior ? `${prior}, ${req.clientIp}` : req.clientIp);
  }
  if (s.forwardedProto) out.push('X-Forwarded-Proto', req.secure ? 'https' : 'http');
  addSet(out, req, s.set);
  if (extra) addSet(out, req, extra);
  if (o.upgrade) {
    out.push('Connection', 'upgrade', 'Upgrade', o.upgrade.protocol);
    if (o.upgrade.key !== undefined) out.push('Sec-WebSocket-Key', o.upgrade.key);
  } else {
    out.push('Connection', o.keepAlive ? 'keep-alive' : 'close');
  }
  return out;
}

function hostValue(req: ProxiedRequest<any>, s: HeaderSettings, node: UpstreamNode): string {
  if (s.host === 'upstream') return node.address.hostHeader;
  // The host the routes chose by: the Host header, or an absolute-form target's authority (RFC 9112 §3.2.2).
  if (s.host === 'client') return req.host ?? node.address.hostHeader;
  return s.host.fixed;
}

function addSet(out: string[], req: ProxiedRequest<any>, set: readonly (readonly [string, string, HeaderValue])[]): void {
  for (const [, name, value] of set) {
    const v = typeof value === 'function' ? value(req) : value;
    if (v === null || v === undefined) continue;
    if (/[\r\n\0]/.test(v)) throw new TypeError(`header ${name}: the value computed for this request contains CR, LF or NUL`);
    out.push(name, v);
  }
}

function replacedBy(extra: readonly (readonly [string, string, HeaderValue])[], lower: string): boolean {
  for (const [name] of extra) if (name === lower) return true;
  return false;
}
