/**
 * Path routing in nginx's terms: `location = /exact`, `location /prefix/` (longest wins), `location ^~
 * /prefix/` (stops the regex search), `location ~ regex` (first match in order). A location sends the request
 * to a proxy target, rewriting the matched prefix (nginx `proxy_pass` with a URI: `/` → `/ofmeet/`) or the
 * regex match (`$1`), or hands it to a function of the route's.
 *
 * Locations match `req.path`, which core has normalised (`//`, dot segments, unreserved escapes), with its
 * escapes decoded but for `%2F` and `%25`: an encoded slash is never a separator. The upstream receives that
 * same path, or its rewrite, so that it cannot read a different path from the one that was matched.
 */
import { parseRequestTarget, type RequestContext, type RouteResult } from '@wsgate/core';
import { invalidOption, knownKeys } from '../kit/option-checks.js';
import type { UpstreamTarget } from '../proxy/pool.js';

/** What a location does with a request: proxy it, or a route function of its own. */
export type LocationHandler = UpstreamTarget | ((req: RequestContext<any>, match: LocationMatch) => RouteResult | Promise<RouteResult>);

export interface LocationSpec {
  /** `location /prefix/`: the longest matching prefix wins. */
  prefix?: string;
  /** `location = /path`: this path only, before anything else. */
  exact?: string;
  /** `location ~ regex` (`~*` with the `i` flag): tried in order after the prefixes. */
  regex?: RegExp | string;
  /** On a prefix: when it is the longest match, regexes are not tried (nginx `^~`). */
  noRegex?: boolean;
  to: LocationHandler;
  /**
   * Prefix and exact locations: what replaces the matched part (`{ prefix: '/', rewrite: '/ofmeet/' }` sends
   * `/x?y` as `/ofmeet/x?y`). Regex locations: the replacement of the whole path, with `$1`… for captures.
   */
  rewrite?: string;
}

export interface LocationMatch {
  readonly location: Readonly<LocationSpec>;
  /** The request target to send upstream, rewritten if the location says so. */
  readonly url: string;
}

interface Compiled {
  readonly spec: LocationSpec;
  readonly kind: 'exact' | 'prefix' | 'regex';
  readonly path: string;
  readonly regex: RegExp | undefined;
}

/** A location router: `route(req)` takes the matching location's action, or `req.next()` when none matches. */
export class Locations {
  private readonly exact = new Map<string, Compiled>();
  private readonly prefixes: Compiled[] = [];
  private readonly regexes: Compiled[] = [];

  constructor(specs: readonly LocationSpec[]) {
    if (!Array.isArray(specs) || specs.length === 0) throw invalidOption('locations()', 'give at least one location, e.g. [{ prefix: "/", to: pool }]');
    specs.forEach((spec, i) => this.add(`locations()[${i}]`, spec));
    // Longest first: the first prefix that matches is the longest.
    this.prefixes.sort((a, b) => b.path.length - a.path.length);
  }

  /**
   * The location for a request path and query, nginx's way, or undefined. The path is normalised first, as
   * `req.path` is.
   * @throws {TargetSyntaxError} for a path the gateway answers 400 (a bad escape, `..` above the root).
   */
  match(path: string, search = ''): LocationMatch | undefined {
    return this.find(parseRequestTarget(path, 'GET').path, search);
  }

  /** Routes a request: the location's action, or `req.next()` when no location matches. */
  route(req: RequestContext<any>): RouteResult | Promise<RouteResult> {
    const match = this.find(req.path, req.search);
    if (!match) return req.next();
    const to = match.location.to;
    if (typeof to === 'function') return to(req, match);
    // The pool sends `req.target` (normalised path and query) unless told otherwise.
    return req.proxy(match.url === req.target ? to : to.with({ url: match.url }));
  }

  /** `path` is normalised: what is matched here is what goes upstream. */
  private find(path: string, search: string): LocationMatch | undefined {
    const decoded = decodeForMatch(path);
    const exact = this.exact.get(decoded);
    if (exact) return this.result(exact, path, decoded, search);
    const prefix = this.prefixes.find((p) => decoded.startsWith(p.path));
    if (!prefix?.spec.noRegex) {
      for (const r of this.regexes) if (r.regex!.test(decoded)) return this.result(r, path, decoded, search);
    }
    return prefix && this.result(prefix, path, decoded, search);
  }

  private result(c: Compiled, path: string, decoded: string, search: string): LocationMatch {
    const rewrite = c.spec.rewrite;
    if (rewrite === undefined) return { location: c.spec, url: path + search };
    // Rewrite what was matched (the decoded path); what came from the path is encoded again as a path segment.
    if (c.kind !== 'regex') return { location: c.spec, url: encodeTemplate(rewrite) + encodePath(decoded.slice(c.path.length)) + search };
    const m = c.regex!.exec(decoded)!;
    const rewritten = encodePath(decoded.slice(0, m.index)) + expand(rewrite, m) + encodePath(decoded.slice(m.index + m[0].length));
    return { location: c.spec, url: rewritten + search };
  }

  private add(where: string, spec: LocationSpec): void {
    knownKeys(where, spec, ['prefix', 'exact', 'regex', 'noRegex', 'to', 'rewrite']);
    const kinds = (['prefix', 'exact', 'regex'] as const).filter((k) => spec[k] !== undefined);
    if (kinds.length !== 1) throw invalidOption(where, 'give exactly one of prefix, exact or regex');
    const to = spec.to as unknown;
    if (typeof to !== 'function' && (typeof to !== 'object' || to === null || typeof (to as UpstreamTarget).with !== 'function')) {
      throw invalidOption(`${where}.to`, 'expected a pool made by upstreams() or upstream(), or a function (req, match) => action');
    }
    if (spec.rewrite !== undefined && (typeof spec.rewrite !== 'string' || (kinds[0] !== 'regex' && !spec.rewrite.startsWith('/')))) {
      throw invalidOption(`${where}.rewrite`, 'expected a path starting with "/"');
    }
    if (spec.noRegex !== undefined && kinds[0] !== 'prefix') throw invalidOption(`${where}.noRegex`, 'only prefix locations stop the regex search');
    if (kinds[0] === 'regex') {
      let regex: RegExp;
      try {
        regex = typeof spec.regex === 'string' ? new RegExp(spec.regex) : spec.regex!;
      } catch (err) {
        throw invalidOption(`${where}.regex`, `not a regular expression: ${(err as Error).message}`);
      }
      if (!(regex instanceof RegExp)) throw invalidOption(`${where}.regex`, 'expected a RegExp or a string');
      // A global or sticky regex keeps state between test() calls: matches would depend on earlier requests.
      if (regex.global || regex.sticky) throw invalidOption(`${where}.regex`, 'remove the g and y flags');
      this.regexes.push({ spec, kind: 'regex', path: '', regex });
      return;
    }
    const path = (spec.prefix ?? spec.exact)!;
    if (typeof path !== 'string' || !path.startsWith('/')) throw invalidOption(`${where}.${kinds[0]}`, 'expected a path starting with "/"');
    if (/\/\/|\/\.\.?(\/|$)/.test(path)) throw invalidOption(`${where}.${kinds[0]}`, `${path} never matches: request paths are normalised, without "//", "." or ".." segments`);
    if (kinds[0] === 'exact') {
      if (this.exact.has(path)) throw invalidOption(where, `a second location for exactly ${path}`);
      this.exact.set(path, { spec, kind: 'exact', path, regex: undefined });
    } else {
      if (this.prefixes.some((p) => p.path === path)) throw invalidOption(where, `a second location for the prefix ${path}`);
      this.prefixes.push({ spec, kind: 'prefix', path, regex: undefined });
    }
  }
}

/**
 * The normalised path percent-decoded, as nginx matches locations, but for `%2F` and `%25`: the encoded slash
 * stays a character of its segment, and a `%` in the result is always the start of one of those two.
 * Escapes that are not UTF-8 stay encoded.
 */
function decodeForMatch(path: string): string {
  if (!path.includes('%')) return path;
  return path.replace(/(?:%(?!2F|25)[0-9A-F]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

/** Decoded path text back into a path: what a segment cannot hold as it is, percent-encoded (`?` too). */
function encodePath(text: string): string {
  return text.replace(/[^\w\-.~!$&'()*+,;=:@/%]+/g, encodeURIComponent);
}

/** A rewrite as configured: the same, but a `?` it holds starts a query. */
function encodeTemplate(text: string): string {
  return text.replace(/[^\w\-.~!$&'()*+,;=:@/%?]+/g, encodeURIComponent);
}

/** A regex rewrite with `$1`…`$99`, `$<name>`, `$&` and `$$` replaced, the captures encoded as path text. */
function expand(template: string, m: RegExpExecArray): string {
  let out = '';
  let last = 0;
  for (const t of template.matchAll(/\$(?:(\$)|(&)|([1-9]\d?)|<([^>]*)>)/g)) {
    const n = Number(t[3]);
    const value = t[2] ? m[0] : t[3] ? (n < m.length ? (m[n] ?? '') : undefined) : t[4] !== undefined ? m.groups?.[t[4]] : undefined;
    out += encodeTemplate(template.slice(last, t.index)) + (t[1] ? '$' : value === undefined ? t[0] : encodePath(value));
    last = t.index + t[0].length;
  }
  return out + encodeTemplate(template.slice(last));
}

/**
 * Locations of one site, nginx's way:
 * @example
 * const site = locations([
 *   { prefix: '/colibri-ws/', to: jvb },
 *   { prefix: '/http-bind/', to: xmpp },
 *   { prefix: '/', to: web, rewrite: '/ofmeet/' },
 * ]);
 * export default defineRoutes({ 'http:request': (req) => site.route(req) });
 */
export function locations(specs: readonly LocationSpec[]): Locations {
  return new Locations(specs);
}
