/**
 * Story S2 (docs/design.md), cookie-token variant: the media server's nginx front (../s2-media-basic/media-site.ts)
 * with the source documents' token check in its WebSocket location,
 *
 *   if (!-f /var/lib/nginx/tokens/$cookie_AUTH) { return 403; }
 *
 * made safe (the token must be a strict token before it names a file), with the Origin checked against the
 * allowed pages (a cookie alone would let any web page open a WebSocket as the user), and rate limits per
 * client IP. `GET /` serves a page that sets the cookie and connects (./page.ts), as nginx's `root` would.
 *
 * Options (`script.options`):
 * - `upstream` (the media server, `wss://host:port`), `hook` (the REST hook's URL), `maxBodySize` (bytes);
 *   without `upstream`, WebSockets end here and are echoed: how packages/bench/src/auth/bench-auth.ts measures
 *   the checks alone;
 * - `tokens`: the token directory (default `./tokens`, relative to this folder);
 * - `origins`: the allowed page origins (required), e.g. `[https://media.example.com]`;
 * - `handshakesPerSecond` (default 20) and `connectionsPerIp` (default 50; it counts the WebSockets ended
 *   here and those relayed to the media server alike).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineRoutes, WsgateError, type RouteFactory, type Routes } from '@wsgate/core';
import { allOf, cookieToken, directoryTokens, origin, rateLimit } from '@wsgate/routes';
import { mediaSite, mediaSiteOptions, type MediaSite } from '../s2-media-basic/media-site.js';
import { numberOption, stringOption } from '../s2-media-basic/script-options.js';
import { PAGE } from './page.js';

const here = path.dirname(fileURLToPath(import.meta.url));

const s2MediaCookie: RouteFactory = ({ gateway, options }) => {
  const origins = options.origins;
  if (!Array.isArray(origins)) throw new WsgateError('WSGATE_SCRIPT_INVALID', 'script.options.origins: give the allowed page origins, e.g. [https://media.example.com]');

  return mediaCookieRoutes(
    mediaSite({
      ...mediaSiteOptions(options, true),
      // Cheapest and broadest first: a flood is turned away before any file look-up.
      access: allOf(
        rateLimit({ handshakes: { limit: numberOption(options, 'handshakesPerSecond', 20) }, connections: { max: numberOption(options, 'connectionsPerIp', 50) }, gateway }),
        origin({ allow: origins as string[] }),
        cookieToken({ store: directoryTokens({ dir: path.resolve(here, stringOption(options, 'tokens', './tokens')) }), connections: gateway.connections }),
      ),
      logger: gateway.logger,
    }),
  );
};

/** The routes around a media site: its page at `/`, the site's locations, and an echo for WebSockets ended here. */
export function mediaCookieRoutes(site: MediaSite): Routes {
  return defineRoutes(
    {
      'http:request'(req) {
        if (req.method === 'GET' && req.path === '/') return req.reply(200, 'OK', 'text/html; charset=utf-8', PAGE);
        return site.route(req);
      },
      // Only without an upstream: WebSockets ended here are echoed.
      'websocket:message'(conn, data, isBinary) {
        conn.send(data, { binary: isBinary });
      },
      'routes:close': (reason) => site.close(reason),
    },
    's2-media-cookie',
  );
}

export default s2MediaCookie;
