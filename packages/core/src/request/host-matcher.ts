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
  if (rest === '') return { name: normalizeHostName(name), port: undefined };
  if (!/^:\d{1,5}$/.test(rest)) return undefined;
  const port = Number(rest.slice(1));
  if (port < 1 || port > 65535) return undefined;
  return { name: normalizeHostName(name), port };
}

/** A host name in the form names are compared in: lower case, without the trailing dot of a fully qualified name. */
export function normalizeHostName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/**
 * What a `*.domain` pattern must equal for `name` to match it: `name` without its first label
 * (`a.example.com` → `example.com`). A wildcard stands for exactly one non-empty label, as in certificates
 * (RFC 6125 §6.4.3), so `*.example.com` matches neither `example.com` nor `a.b.example.com`.
 */
export function wildcardDomainOf(name: string): string | undefined {
  const dot = name.indexOf('.');
  return dot > 0 && dot < name.length - 1 ? name.slice(dot + 1) : undefined;
}

/**
 * Kamailio's `is_myself()` for HTTP: is this Host one of the gateway's own names or addresses, and, when it
 * carries a port, one of the gateway's listening ports? A name `*.domain` stands for any one label.
 */
export class HostMatcher {
  private readonly names: ReadonlySet<string>;
  /** The `domain` of each `*.domain` name. */
  private readonly wildcards: ReadonlySet<string>;
  private readonly ports: ReadonlySet<number>;

  constructor(names: Iterable<string>, ports: Iterable<number>) {
    const all = [...names].map((n) => normalizeHostName(n.startsWith('[') ? n.slice(1, -1) : n));
    this.names = new Set(all.filter((n) => !n.startsWith('*.')));
    this.wildcards = new Set(all.filter((n) => n.startsWith('*.')).map((n) => n.slice(2)));
    this.ports = new Set(ports);
  }

  matches(host: string): boolean {
    const parsed = parseHost(host);
    if (!parsed || !this.isOwnName(parsed.name)) return false;
    return parsed.port === undefined || this.ports.has(parsed.port);
  }

  private isOwnName(name: string): boolean {
    if (this.names.has(name)) return true;
    if (this.wildcards.size === 0) return false;
    const domain = wildcardDomainOf(name);
    return domain !== undefined && this.wildcards.has(domain);
  }
}
