import { isIP } from 'node:net';

/** A `Host` header value split into name and port; IPv6 literals keep no brackets. */
export interface HostPort {
  readonly name: string;
  readonly port: number | undefined;
}

/**
 * Parses a Host header (RFC 9110 §7.2: `uri-host [ ":" port ]`). Returns undefined for anything that is not
 * a host: empty, bad brackets, a port that is not 1–65535 digits.
 */
export function parseHost(value: string): HostPort | undefined {
  let name: string;
  let rest: string;
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    if (end < 0) return undefined;
    name = value.slice(1, end);
    if (isIP(name) !== 6) return undefined;
    rest = value.slice(end + 1);
  } else {
    const colon = value.indexOf(':');
    name = colon < 0 ? value : value.slice(0, colon);
    rest = colon < 0 ? '' : value.slice(colon);
  }
  if (name === '') return undefined;
  if (rest === '') return { name: normalize(name), port: undefined };
  if (!/^:\d{1,5}$/.test(rest)) return undefined;
  const port = Number(rest.slice(1));
  if (port < 1 || port > 65535) return undefined;
  return { name: normalize(name), port };
}

function normalize(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/**
 * Kamailio's `is_myself()` for HTTP: is this Host one of the gateway's own names or addresses, and, when it
 * carries a port, one of the gateway's listening ports?
 */
export class HostMatcher {
  private readonly names: ReadonlySet<string>;
  private readonly ports: ReadonlySet<number>;

  constructor(names: Iterable<string>, ports: Iterable<number>) {
    this.names = new Set([...names].map((n) => normalize(n.startsWith('[') ? n.slice(1, -1) : n)));
    this.ports = new Set(ports);
  }

  matches(host: string): boolean {
    const parsed = parseHost(host);
    if (!parsed || !this.names.has(parsed.name)) return false;
    return parsed.port === undefined || this.ports.has(parsed.port);
  }
}
