/**
 * The client's real address behind proxies (nginx's `realip` module, Kamailio's `ws.ip_forward_header`).
 *
 * The TCP peer (or the source a PROXY protocol preface named) is who we talk to. A forwarded-address header
 * is believed only when that peer is a trusted proxy: anyone else could write any address into it.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { BlockList, isIP } from 'node:net';
import type { RealIpConfig } from '../config/types.js';
import { WsgateError } from '../errors.js';
import type { ClientAddress } from '../vocabulary.js';
import { proxiedSource } from './proxy-protocol.js';
import { detachedString } from '../request/detached-string.js';

/**
 * Parses `ip`, `ip:port`, `[v6]` or `[v6]:port` (a bare v6 address has no port). Undefined for anything else:
 * names, empty strings, ports outside 1–65535.
 */
export function parseAddressPort(value: string): { ip: string; port: number | undefined } | undefined {
  const text = value.trim();
  // Zone ids (`fe80::1%eth0`) name an interface of the sender: meaningless here.
  if (text.includes('%')) return undefined;
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    const ip = text.slice(1, end);
    if (end < 0 || isIP(ip) !== 6) return undefined;
    const rest = text.slice(end + 1);
    if (rest === '') return { ip, port: undefined };
    const port = parsePort(rest);
    return port === undefined ? undefined : { ip, port };
  }
  if (isIP(text) !== 0) return { ip: text, port: undefined };
  const colon = text.lastIndexOf(':');
  if (colon < 0 || isIP(text.slice(0, colon)) !== 4) return undefined;
  const port = parsePort(text.slice(colon));
  return port === undefined ? undefined : { ip: text.slice(0, colon), port };
}

function parsePort(text: string): number | undefined {
  if (!/^:[0-9]{1,5}$/.test(text)) return undefined;
  const port = Number(text.slice(1));
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** Why a `trustedProxies` entry is not an address or CIDR, or undefined when it is one. */
export function trustedProxyProblem(entry: string): string | undefined {
  const slash = entry.indexOf('/');
  const address = slash < 0 ? entry : entry.slice(0, slash);
  const family = isIP(address);
  if (family === 0 || address.includes('%')) return `"${entry}" is not an IP address or CIDR such as 10.0.0.0/8 or fd00::/8`;
  if (slash < 0) return undefined;
  const bits = entry.slice(slash + 1);
  const max = family === 4 ? 32 : 128;
  if (!/^[0-9]{1,3}$/.test(bits) || Number(bits) > max) return `"${entry}": the prefix length must be a number from 0 to ${max}`;
  return undefined;
}

/**
 * Resolves the client's address from the peer's and the configured header.
 * @throws {WsgateError} `WSGATE_CONFIG_INVALID` for a `trustedProxies` entry that is not an address or CIDR
 *   (the config loader reports these with their path first).
 */
export class RealIpResolver {
  private readonly trusted = new BlockList();
  private readonly header: string;
  private readonly list: boolean;

  constructor(config: RealIpConfig) {
    for (const entry of config.trustedProxies) {
      const problem = trustedProxyProblem(entry);
      if (problem) throw new WsgateError('WSGATE_CONFIG_INVALID', `realIp.trustedProxies: ${problem}`);
      const [address, bits] = entry.split('/') as [string, string | undefined];
      const type = isIP(address) === 4 ? 'ipv4' : 'ipv6';
      if (bits === undefined) this.trusted.addAddress(address, type);
      else this.trusted.addSubnet(address, Number(bits), type);
    }
    this.header = config.header.toLowerCase();
    this.list = this.header === 'x-forwarded-for';
  }

  /** Is `ip` one of the trusted proxies? (v4-mapped v6 addresses count as their v4 address.) */
  isTrusted(ip: string): boolean {
    const family = isIP(ip);
    return family !== 0 && this.trusted.check(ip, family === 4 ? 'ipv4' : 'ipv6');
  }

  /** The client: the peer itself unless it is trusted and its header names a well-formed address. */
  resolve(peer: ClientAddress, headers: IncomingHttpHeaders): ClientAddress {
    if (!this.isTrusted(peer.ip)) return peer;
    const raw = headers[this.header];
    const value = Array.isArray(raw) ? raw.join(', ') : raw;
    if (value === undefined) return peer;
    const found = this.list ? this.fromList(value) : parseAddressPort(value);
    // kept as long as the connection: a copy, not a view that would keep the header (and the head) alive
    return found ? { ip: detachedString(found.ip), port: found.port ?? 0 } : peer;
  }

  /**
   * `X-Forwarded-For: client, proxy1, proxy2`: each proxy appends the address it got the request from, so
   * the rightmost entries are the ones our trusted proxies wrote. Walk right to left past trusted proxies;
   * the first other address is the client. Everything left of it came from the client and is never read.
   */
  private fromList(value: string): { ip: string; port: number | undefined } | undefined {
    const hops = value.split(',');
    let last: { ip: string; port: number | undefined } | undefined;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = parseAddressPort(hops[i]!);
      // A trusted proxy passed on garbage: believe none of the header rather than a part of it.
      if (!hop) return undefined;
      last = hop;
      if (!this.isTrusted(hop.ip)) return hop;
    }
    // Every hop is a trusted proxy: the leftmost is as far as anyone can tell.
    return last;
  }
}

/**
 * The client of a request: the PROXY preface's source when the listener had one, else the TCP peer; then,
 * with a resolver, what a trusted proxy's header says.
 */
export function clientAddressOf(
  head: { readonly socket: { readonly remoteAddress?: string | undefined; readonly remotePort?: number | undefined }; readonly headers: IncomingHttpHeaders },
  resolver: RealIpResolver | undefined,
): ClientAddress {
  const socket = head.socket;
  const peer = proxiedSource(socket) ?? tcpPeer(socket);
  return resolver ? resolver.resolve(peer, head.headers) : peer;
}

interface PeerHandle {
  getpeername?(out: { address?: string; port?: number }): number;
}

/**
 * The TCP peer, read from the socket's handle. Node's `remoteAddress` would do the same, and keep the answer
 * on the socket as an object for the connection's life: 82 B a connection (heap snapshots at 2,000), where
 * the gateway keeps the address it needs itself. Sockets without such a handle (tests, wrappers) are asked
 * as usual.
 */
function tcpPeer(socket: { readonly remoteAddress?: string | undefined; readonly remotePort?: number | undefined }): ClientAddress {
  const handle = (socket as { _handle?: PeerHandle | null })._handle;
  if (handle?.getpeername !== undefined) {
    const out: { address?: string; port?: number } = {};
    if (handle.getpeername(out) === 0 && out.address !== undefined) return { ip: out.address, port: out.port ?? 0 };
  }
  return { ip: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
}
