/**
 * Story S2 (DESIGN.md), basic-auth variant: the nginx server block in front of a WebRTC media server,
 *
 *   location / {
 *       auth_basic "media"; auth_basic_user_file /etc/nginx/htpasswd;
 *       if ($http_connection !~* "upgrade") { return 403; }
 *       if ($http_upgrade !~* "websocket") { return 403; }
 *       proxy_pass https://media:8089; …
 *   }
 *
 * as a route script. It terminates here for now (the proxy issue makes it relay to the media server's wss
 * port). The client's real address comes from the config's `realIp` (a trusted balancer's `X-Client-IP:
 * ip:port`), and is what the refusal log, the registry and the echo below show.
 *
 * Options (`script.options`): `htpasswd` (default `./htpasswd`, relative to this folder), `realm` (default `media`).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineRoutes, WsgateError, type RouteFactory } from '@wsgate/core';
import { basicAuth } from '@wsgate/routes';

const here = path.dirname(fileURLToPath(import.meta.url));

const s2MediaBasic: RouteFactory = ({ options }) => {
  const auth = basicAuth({ file: path.resolve(here, stringOption(options, 'htpasswd', './htpasswd')), realm: stringOption(options, 'realm', 'media') });

  return defineRoutes(
    {
      async 'http:request'(req) {
        req.setReplyClose();
        // nginx's rewrite-phase `if`s run before its access phase: the 403s come before the 401 challenge.
        if (!/upgrade/i.test(req.header('connection') ?? '')) return req.refuse(403, 'upgrade', 'Connection must contain "upgrade"');
        if (!/websocket/i.test(req.header('upgrade') ?? '')) return req.refuse(403, 'upgrade', 'Upgrade must contain "websocket"');
        if (!(await auth.check(req))) return;
        return req.handshake();
      },

      // Stands in for the media server: says who is connected, and from where.
      'websocket:message'(conn, data) {
        conn.send(JSON.stringify({ user: conn.get('user'), client: `${conn.remoteAddress}:${conn.remotePort}`, echo: data.toString() }));
      },
    },
    's2-media-basic',
  );
};

export default s2MediaBasic;

function stringOption(options: Readonly<Record<string, unknown>>, name: string, fallback: string): string {
  const value = options[name] ?? fallback;
  if (typeof value !== 'string' || value === '') throw new WsgateError('WSGATE_SCRIPT_INVALID', `script.options.${name}: expected a non-empty string`);
  return value;
}
