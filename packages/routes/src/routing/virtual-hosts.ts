/**
 * Several sites on one listener, chosen by the `Host` header as nginx chooses a `server` block by
 * `server_name`: exact names, then `*.example.com` wildcards (longest first), then the default site if
 * there is one; otherwise the request goes on down the pipeline (`req.next()`).
 */
import type { RequestContext, RouteResult } from '@wsgate/core';
import { invalidOption, knownKeys } from '../kit/option-checks.js';

/** What a site does with a request: usually a `locations()` router. */
export type SiteRoute = { route(req: RequestContext<any>): RouteResult | Promise<RouteResult> } | ((req: RequestContext<any>) => RouteResult | Promise<RouteResult>);

export interface SiteSpec {
  /** Host names (`meet.example.com`), or wildcards (`*.example.com`), compared without case and port. */
  names: readonly string[];
  routes: SiteRoute;
  /** Takes requests whose Host matches no site (nginx `default_server`). */
  default?: boolean;
}

export class VirtualHosts {
  private readonly exact = new Map<string, SiteRoute>();
  private readonly wildcards: { suffix: string; routes: SiteRoute }[] = [];
  private readonly fallback: SiteRoute | undefined;

  constructor(sites: readonly SiteSpec[]) {
    if (!Array.isArray(sites) || sites.length === 0) throw invalidOption('virtualHosts()', 'give at least one site');
    let fallback: SiteRoute | undefined;
    sites.forEach((site, i) => {
      const where = `virtualHosts()[${i}]`;
      knownKeys(where, site, ['names', 'routes', 'default']);
      const routes = site.routes as unknown;
      if (typeof routes !== 'function' && typeof (routes as { route?: unknown } | null)?.route !== 'function') {
        throw invalidOption(`${where}.routes`, 'expected a locations() router or a function (req) => action');
      }
      if (!Array.isArray(site.names) || (site.names.length === 0 && !site.default)) throw invalidOption(`${where}.names`, 'give at least one host name');
      for (const raw of site.names) {
        if (typeof raw !== 'string' || !/^(\*\.)?[a-z0-9.-]+$/i.test(raw)) throw invalidOption(`${where}.names`, `${JSON.stringify(raw)} is not a host name or *.wildcard`);
        const name = raw.toLowerCase();
        if (name.startsWith('*.')) this.wildcards.push({ suffix: name.slice(1), routes: site.routes });
        else if (this.exact.has(name)) throw invalidOption(`${where}.names`, `${name} is already the name of another site`);
        else this.exact.set(name, site.routes);
      }
      if (site.default) {
        if (fallback) throw invalidOption(`${where}.default`, 'only one site can be the default');
        fallback = site.routes;
      }
    });
    this.wildcards.sort((a, b) => b.suffix.length - a.suffix.length);
    this.fallback = fallback;
  }

  /** The site for a `Host` header value, or undefined. */
  site(host: string | undefined): SiteRoute | undefined {
    const name = hostName(host);
    if (name !== undefined) {
      const exact = this.exact.get(name);
      if (exact) return exact;
      for (const w of this.wildcards) if (name.endsWith(w.suffix)) return w.routes;
    }
    return this.fallback;
  }

  route(req: RequestContext<any>): RouteResult | Promise<RouteResult> {
    const site = this.site(req.host);
    if (site === undefined) return req.next();
    return typeof site === 'function' ? site(req) : site.route(req);
  }
}

/** Host header → lower-case name without port or trailing dot (`[::1]:443` → `[::1]`). */
function hostName(host: string | undefined): string | undefined {
  if (!host) return undefined;
  let name = host.toLowerCase();
  if (name.startsWith('[')) return name.slice(0, name.indexOf(']') + 1);
  const colon = name.indexOf(':');
  if (colon >= 0) name = name.slice(0, colon);
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

/** Sites by host name on one listener: `virtualHosts([{ names: ['meet.example.com'], routes: site }])`. */
export function virtualHosts(sites: readonly SiteSpec[]): VirtualHosts {
  return new VirtualHosts(sites);
}
