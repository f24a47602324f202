/**
 * The gateway's route script. Every HTTP request that reaches a listener runs through `http:request`, which
 * ends it: a reply, a WebSocket handshake here, `req.proxy(upstream(...))`, or `req.next()` (then 404).
 * `npm run check` loads and type-checks it; `npm test` drives it through inject() (routes.test.ts).
 */
import { defineRoutes } from '@wsgate/core';
import { origin } from '@wsgate/routes';

/** What a request hands its WebSocket: set in `http:request`, read in the `websocket:*` routes. */
type Attributes = { client: string };

// Browsers send Origin with a WebSocket handshake: only pages of these sites may open one (others get 403).
// Clients that are not browsers (SIP phones, tools) send none and are let in.
const sites = origin({ allow: ['http://localhost:8080', 'https://*.example.com'], missing: 'allow' });

export default defineRoutes<Attributes>(
  {
    async 'http:request'(req) {
      if (req.path === '/health') return req.reply(200, 'OK', 'text/plain', 'ok\n');
      if (req.path === '/echo' && req.isWebSocketUpgrade) {
        if (!(await sites.check(req))) return; // refused with 403, logged and counted
        req.set('client', `${req.clientIp}:${req.clientPort}`);
        return req.handshake({ protocols: ['echo'], requireProtocol: true });
      }
      return req.next(); // no other route set: 404 Not found
    },
    'websocket:open'(conn) {
      conn.send(`hello ${conn.get('client')}`);
    },
    'websocket:message'(conn, data, isBinary) {
      conn.send(data, { binary: isBinary }); // echo
    },
    'routes:close': () => sites.close(),
  },
  'echo',
);
