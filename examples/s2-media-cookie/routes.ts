/**
 * Story S2 (DESIGN.md), cookie-token variant: the source documents' nginx setup
 *
 *   if (!-f /var/lib/nginx/tokens/$cookie_AUTH) { return 403; }
 *
 * made safe (the token must be a strict token before it names a file), with the Origin checked against the
 * allowed pages (a cookie alone would let any web page open a WebSocket as the user), and rate limits per
 * client IP. It terminates here for now; the proxy issue makes it relay to the media server.
 *
 * `GET /` serves a page that sets the cookie and connects (./page.ts).
 *
 * Options (`script.options`):
 * - `tokens`: the token directory (default `./tokens`, relative to this folder);
 * - `origins`: the allowed page origins (required), e.g. `[https://media.example.com]`;
 * - `handshakesPerSecond` (default 20) and `connectionsPerIp` (default 50).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineRoutes, WsgateError, type RouteFactory } from '@wsgate/core';
import { allOf, cookieToken, directoryTokens, origin, rateLimit } from '@wsgate/routes';
import { PAGE } from './page.js';

const here = path.dirname(fileURLToPath(import.meta.url));

const s2MediaCookie: RouteFactory = ({ gateway, options }) => {
  const origins = options.origins;
  if (!Array.isArray(origins)) throw new WsgateError('WSGATE_SCRIPT_INVALID', 'script.options.origins: give the allowed page origins, e.g. [https://media.example.com]');
  const tokens = options.tokens ?? './tokens';
  if (typeof tokens !== 'string') throw new WsgateError('WSGATE_SCRIPT_INVALID', 'script.options.tokens: expected a directory path');

  // Cheapest and broadest first: a flood is turned away before any file look-up.
  const access = allOf(
    rateLimit({ handshakes: { limit: numberOption(options, 'handshakesPerSecond', 20) }, connections: { max: numberOption(options, 'connectionsPerIp', 50) }, gateway }),
    origin({ allow: origins as string[] }),
    cookieToken({ store: directoryTokens({ dir: path.resolve(here, tokens) }), connections: gateway.connections }),
  );

  return defineRoutes(
    {
      async 'http:request'(req) {
        if (!req.isWebSocketUpgrade) {
          if (req.method === 'GET' && req.path === '/') return req.reply(200, 'OK', 'text/html; charset=utf-8', PAGE);
          return req.next();
        }
        if (!(await access.check(req))) return;
        return req.handshake();
      },

      // Stands in for the media server.
      'websocket:message'(conn, data) {
        conn.send(`${data.toString()} from the media server, token ${String(conn.get('tokenId'))}`);
      },
    },
    's2-media-cookie',
  );
};

export default s2MediaCookie;

function numberOption(options: Readonly<Record<string, unknown>>, name: string, fallback: number): number {
  const value = options[name] ?? fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new WsgateError('WSGATE_SCRIPT_INVALID', `script.options.${name}: expected a whole number, at least 1`);
  return value;
}
