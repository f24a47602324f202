/**
 * Story S4 (docs/design.md): a TLS terminator. wss (and https) on the client port, relayed to a plain ws upstream,
 * in the place of this nginx server block:
 *
 *   map $http_upgrade $connection_upgrade { default upgrade; '' close; }
 *   server {
 *     listen 443 ssl;
 *     location / {
 *       proxy_pass http://127.0.0.1:9000;
 *       proxy_http_version 1.1;
 *       proxy_set_header Upgrade $http_upgrade;
 *       proxy_set_header Connection $connection_upgrade;
 *       proxy_set_header Host $http_host;
 *       proxy_set_header X-Real-IP $remote_addr;
 *       proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
 *       proxy_set_header X-Forwarded-Proto $scheme;
 *       proxy_read_timeout 86400;
 *     }
 *   }
 *
 * `Connection: upgrade` goes upstream only when the client asked for an upgrade, `close` otherwise: the
 * proxy's default. Options (`script.options`): `upstream` (default `ws://127.0.0.1:9000`).
 */
import { defineRoutes, WsgateError, type Logger, type RouteFactory, type Routes } from '@wsgate/core';
import { upstream, type UpstreamPool } from '@wsgate/routes';

export interface Terminator {
  readonly routes: Routes;
  readonly pool: UpstreamPool;
}

export function createTerminator(options: { upstream: string; logger?: Logger }): Terminator {
  const pool = upstream(options.upstream, {
    headers: { host: 'client', realIp: 'X-Real-IP', forwardedFor: true, forwardedProto: true },
    timeouts: { websocket: 86_400 },
    logger: options.logger,
  });
  return {
    // routes:close: a reload keeps open tunnels; a shutdown ends them at once with 1001 Going Away.
    routes: defineRoutes({ 'http:request': (req) => req.proxy(pool), 'routes:close': (reason) => pool.retire(reason) }, 's4-tls-terminator'),
    pool,
  };
}

const s4TlsTerminator: RouteFactory = ({ gateway, options }) => {
  const target = options.upstream ?? 'ws://127.0.0.1:9000';
  if (typeof target !== 'string') throw new WsgateError('WSGATE_SCRIPT_INVALID', 's4-tls-terminator: script.options.upstream: give a URL such as "ws://127.0.0.1:9000"');
  return createTerminator({ upstream: target, logger: gateway.logger }).routes;
};

export default s4TlsTerminator;
