/**
 * Origin allow-list: the defence against cross-site WebSocket hijacking. Browsers send cookies with a
 * WebSocket handshake whatever page opened it, and the same-origin policy does not apply to WebSockets;
 * the `Origin` header is the only thing that tells the gateway's own pages from a foreign one.
 */
import { invalidOption, knownKeys, oneOf } from '../kit/option-checks.js';
import { nothingToClose, shown, type Guard } from '../kit/guard.js';
import { compileOriginPattern, matchesPattern, originKey, parseOrigin, type OriginPattern } from './origin-pattern.js';

export interface OriginOptions {
  /**
   * Allowed origins: exact (`https://app.example.com`; default ports are implied, so `:443` changes nothing)
   * or patterns (`https://*.example.com` for any subdomain, `http://localhost:*` for any port). Scheme and
   * port count: `http://app.example.com` is another origin than `https://app.example.com`.
   */
  readonly allow: readonly string[];
  /**
   * No `Origin` header. Browsers always send one on a WebSocket handshake, so a request without one comes
   * from a non-browser client (a SIP user agent, a tool), which cannot be hijacked. Default `refuse`: allow
   * it explicitly when such clients must connect.
   */
  readonly missing?: 'allow' | 'refuse';
  /**
   * `Origin: null`, sent by sandboxed iframes, `file:` pages and some redirects: anyone can produce it.
   * Default `refuse`.
   */
  readonly null?: 'allow' | 'refuse';
}

/** A {@link Guard} over the `Origin` header that can also answer for an origin string. */
export interface OriginGuard extends Guard {
  /** Is this `Origin` header value (or its absence) allowed? */
  allows(origin: string | undefined): boolean;
}

const POLICY = ['allow', 'refuse'] as const;
/** The most allowed Origin values remembered; past it the memory starts over. */
const MAX_ADMITTED = 1024;

/**
 * Refuses (403) requests whose `Origin` is not allowed.
 * @example const sameSite = origin({ allow: ['https://app.example.com', 'https://*.example.com'] });
 * @throws {WsgateError} `WSGATE_CONFIG_INVALID` for an empty list or an entry that is not an origin.
 */
export function origin(options: OriginOptions): OriginGuard {
  const o = knownKeys('origin()', options, ['allow', 'missing', 'null']);
  if (!Array.isArray(o.allow) || o.allow.length === 0) {
    throw invalidOption('origin().allow', 'give at least one origin, e.g. allow: ["https://app.example.com"]');
  }
  const missing = oneOf('origin().missing', o.missing, POLICY, 'refuse') === 'allow';
  const nullOrigin = oneOf('origin().null', o.null, POLICY, 'refuse') === 'allow';
  const exact = new Set<string>();
  const patterns: OriginPattern[] = [];
  o.allow.forEach((entry: unknown, i: number) => {
    if (typeof entry !== 'string') throw invalidOption(`origin().allow[${i}]`, `expected a string, got ${JSON.stringify(entry)}`);
    const compiled = compileOriginPattern(entry);
    if ('problem' in compiled) throw invalidOption(`origin().allow[${i}]`, compiled.problem);
    if ('exact' in compiled) exact.add(compiled.exact);
    else patterns.push(compiled.pattern);
  });

  // Origin values found allowed: a site's clients send the same few, and parsing one is most of the check.
  // Bounded, and only allowed values, so that a client cycling through made-up origins cannot grow it.
  const admitted = new Set<string>();
  const why = (value: string | undefined): string | undefined => {
    if (value === undefined) return missing ? undefined : 'no Origin header';
    if (admitted.has(value)) return undefined;
    if (value === 'null') return nullOrigin ? undefined : 'Origin "null" not allowed';
    const parsed = parseOrigin(value);
    if (!parsed) return `malformed Origin ${shown(value)}`;
    if (!exact.has(originKey(parsed)) && !patterns.some((p) => matchesPattern(parsed, p))) return `Origin ${shown(value)} not allowed`;
    if (admitted.size >= MAX_ADMITTED) admitted.clear();
    admitted.add(value);
    return undefined;
  };

  return {
    name: 'origin',
    allows: (value) => why(value) === undefined,
    check(req) {
      const reason = why(req.origin);
      if (reason === undefined) return true;
      req.refuse(403, 'origin', reason);
      return false;
    },
    close: nothingToClose,
  };
}
