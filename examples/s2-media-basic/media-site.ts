/**
 * Story S2 (docs/design.md): what both S2 variants put in front of the WebRTC media server — the source
 * documents' nginx server block, whose authentication each variant brings (basic auth, or a cookie token):
 *
 *   server {
 *     listen 443 ssl;
 *     client_max_body_size 500m;
 *     proxy_read_timeout 10m;
 *     location /wss {
 *       if ($http_connection !~* "upgrade") { return 403; }
 *       if ($http_upgrade !~* "websocket") { return 403; }
 *       proxy_set_header Host $host;
 *       proxy_pass https://localhost:8443;
 *       proxy_http_version 1.1;
 *       proxy_set_header Upgrade $http_upgrade;
 *       proxy_set_header Connection "upgrade";
 *       proxy_read_timeout 86400;
 *     }
 *   }
 *
 * with `/ws` for `/wss`, the media server's REST API under `/rest-api/` (plain HTTPS, bodies limited), and
 * what nginx left to the media server: the client's real address in the header the server reads
 * (`ws.ip_forward_header`, here `X-Client-IP: ip:port`), and a REST hook that admits or refuses each
 * connection before the media server sees it.
 */
import type { Logger, RequestContext, RouteResult } from '@wsgate/core';
import { authHook, locations, upstreams, whenAdmitted, type Guard, type HeaderValue } from '@wsgate/routes';
import { numberOption, urlOption } from './script-options.js';

/** Where the media server's WebSockets are reached (the source documents' `location /wss`). */
export const WEBSOCKET_PATH = '/ws';

export interface MediaSiteOptions {
  /** The media server's TLS port, `wss://media.internal:8443`: its WebSockets and its REST API. */
  readonly upstream?: string;
  /** The REST hook called before each WebSocket is relayed, `http://127.0.0.1:3000/connect`. None when absent. */
  readonly hook?: string;
  /** Largest request body relayed, in bytes (nginx `client_max_body_size`); larger gets 413. */
  readonly maxBodySize: number;
}

export interface MediaSite {
  route(req: RequestContext<any>): RouteResult | Promise<RouteResult>;
  /** A reload keeps the pool, whose open tunnels must survive it; a shutdown ends them. */
  close(reason: 'reload' | 'shutdown'): Promise<void>;
}

/** The media-server options both variants take: `upstream` (unless optional), `hook`, `maxBodySize`. */
export function mediaSiteOptions(options: Readonly<Record<string, unknown>>, upstreamOptional = false): MediaSiteOptions {
  return {
    upstream: urlOption(options, 'upstream', 'wss://127.0.0.1:8443', !upstreamOptional),
    hook: urlOption(options, 'hook', 'http://127.0.0.1:3000/connect'),
    maxBodySize: numberOption(options, 'maxBodySize', 1024 * 1024, 0),
  };
}

/**
 * The site: `access` (the variant's check) guards both locations; without an `upstream`, WebSockets end
 * here instead (the variant's script then answers their messages) and the REST API is not served.
 */
export function mediaSite(o: MediaSiteOptions & { access: Guard; headers?: Readonly<Record<string, HeaderValue>>; logger?: Logger }): MediaSite {
  const pool =
    o.upstream === undefined
      ? undefined
      : upstreams({
          servers: [o.upstream],
          // The media server's own certificate is self-signed (the source documents' proxy_ssl_verify off).
          tls: { verify: false },
          // What the media server's ws.ip_forward_header reads: the client as the gateway saw it.
          headers: { host: 'client', realIp: 'X-Client-IP', realIpFormat: 'ip:port', set: o.headers ?? {} },
          timeouts: { websocket: 86_400, http: 600 },
          maxBodySize: o.maxBodySize,
          logger: o.logger,
        });
  const hook = o.hook === undefined ? undefined : authHook({ url: o.hook, forwardedHeaders: ['X-Client-IP', 'X-Forwarded-For'] });

  const admitted = (req: RequestContext<any>): RouteResult => (pool ? req.proxy(pool) : req.handshake());
  const accessed = hook ? (req: RequestContext<any>) => whenAdmitted(hook, req, admitted) : admitted;
  const webSockets = (req: RequestContext<any>): RouteResult | Promise<RouteResult> => {
    // nginx's rewrite-phase `if`s run before its access phase: these 403s come before any credentials are asked for.
    if (!/upgrade/i.test(req.header('connection') ?? '')) return req.refuse(403, 'upgrade', 'Connection must contain "upgrade"');
    if (!/websocket/i.test(req.header('upgrade') ?? '')) return req.refuse(403, 'upgrade', 'Upgrade must contain "websocket"');
    // Synchronous while the checks need no I/O (a remembered token, the rate limit in memory): no microtask.
    return whenAdmitted(o.access, req, accessed);
  };
  const restApi = async (req: RequestContext<any>): Promise<RouteResult> => {
    if (!pool) return req.next();
    // A WebSocket here would reach the media server without the hook's say.
    if (req.header('upgrade') !== undefined) return req.refuse(403, 'upgrade', `WebSockets are served at ${WEBSOCKET_PATH} only`);
    if (!(await o.access.check(req))) return;
    return req.proxy(pool);
  };
  const site = locations([
    { prefix: WEBSOCKET_PATH, to: webSockets },
    { prefix: '/rest-api/', to: restApi },
  ]);

  return {
    route: (req) => site.route(req),
    async close(reason) {
      // A reload keeps open tunnels (only timers stop); a shutdown ends them.
      await Promise.all([o.access.close(), hook?.close(), pool?.retire(reason)]);
    },
  };
}
