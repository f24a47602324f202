/**
 * Origins (RFC 6454 serialisations, `scheme://host[:port]`) and allow-list patterns over them. Pure.
 */

/** An origin with its port made explicit: `https://example.com` and `https://example.com:443` are one. */
export interface ParsedOrigin {
  readonly scheme: string;
  readonly host: string;
  /** undefined only for a scheme with no known default port and none given. */
  readonly port: number | undefined;
}

const DEFAULT_PORTS: Readonly<Record<string, number>> = { http: 80, https: 443, ws: 80, wss: 443 };

const ORIGIN = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(\[[0-9A-Fa-f:.]+\]|[^\s/?#:@[\]\\]+)(?::([0-9]{1,5}|\*))?$/;

/**
 * Parses an `Origin` header value. Undefined for anything that is not exactly `scheme://host[:port]`
 * (no path, no credentials), including `null`.
 */
export function parseOrigin(text: string): ParsedOrigin | undefined {
  const parsed = parse(text);
  return parsed && parsed.port !== '*' ? (parsed as ParsedOrigin) : undefined;
}

function parse(text: string): { scheme: string; host: string; port: number | '*' | undefined } | undefined {
  const m = ORIGIN.exec(text);
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase();
  const host = m[2]!.toLowerCase();
  if (m[3] === '*') return { scheme, host, port: '*' };
  const port = m[3] === undefined ? DEFAULT_PORTS[scheme] : Number(m[3]);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  return { scheme, host, port };
}

/** The canonical text of an origin, default port included: the key of the exact-match set. */
export function originKey(o: ParsedOrigin): string {
  return `${o.scheme}://${o.host}:${o.port ?? ''}`;
}

/** An allow-list entry with a wildcard: `https://*.example.com`, `http://localhost:*`. */
export interface OriginPattern {
  readonly scheme: string;
  /** `.example.com` for `*.example.com` (one or more labels before it); else the host itself. */
  readonly suffix: string | undefined;
  readonly host: string;
  readonly port: number | '*' | undefined;
}

/**
 * Compiles one allow-list entry: an exact origin, or one whose host starts with `*.` (any subdomain, not
 * the domain itself) and/or whose port is `*`. A trailing `/` is forgiven. Returns a string saying what is
 * wrong when the entry is not one of these.
 */
export function compileOriginPattern(entry: string): { exact: string } | { pattern: OriginPattern } | { problem: string } {
  const text = entry.endsWith('/') ? entry.slice(0, -1) : entry;
  const parsed = parse(text);
  if (!parsed) return { problem: `${JSON.stringify(entry)} is not an origin such as https://app.example.com, https://*.example.com or http://localhost:*` };
  const wild = parsed.host.startsWith('*.');
  if (parsed.host.slice(wild ? 2 : 0).includes('*')) return { problem: `${JSON.stringify(entry)}: a wildcard may only stand for whole leading labels (*.example.com)` };
  if (!wild && parsed.port !== '*') return { exact: originKey(parsed as ParsedOrigin) };
  return { pattern: { scheme: parsed.scheme, suffix: wild ? parsed.host.slice(1) : undefined, host: parsed.host, port: parsed.port } };
}

export function matchesPattern(o: ParsedOrigin, p: OriginPattern): boolean {
  if (o.scheme !== p.scheme) return false;
  if (p.port !== '*' && p.port !== o.port) return false;
  if (p.suffix === undefined) return o.host === p.host;
  return o.host.length > p.suffix.length && o.host.endsWith(p.suffix) && !o.host.startsWith('.');
}
