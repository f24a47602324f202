/**
 * The route script of the guarded-handshake benchmark, as a user writes story S2's guard (Origin + cookie
 * token + rate limit, examples/s2-media-cookie) for several gateways: the tokens and the handshake counts in
 * `gateway.store`, which is Redis when the config has `store.redis` and memory otherwise. WebSockets admitted
 * are echoed.
 *
 * Options (`script.options`): `origins` (the allowed page origins), `handshakesPerSecond` and
 * `connectionsPerIp` (the limits per client IP). `POST /login` stands for the site's sign-in: it issues a token
 * into the store and sets it as the `AUTH` cookie (a real site checks a password first).
 */
import { defineRoutes, type RouteFactory } from '@wsgate/core';
import { allOf, cookieToken, memoryTokens, origin, rateLimit } from '@wsgate/routes';

const guardedRoutes: RouteFactory = ({ gateway, options }) => {
  const tokens = memoryTokens({ store: gateway.store, ttl: 3600 });
  // As S2 orders them: cheapest and broadest first.
  const access = allOf(
    rateLimit({
      handshakes: { limit: options.handshakesPerSecond as number },
      connections: { max: options.connectionsPerIp as number },
      gateway,
      store: gateway.store,
    }),
    origin({ allow: options.origins as string[] }),
    cookieToken({ store: tokens, cookie: 'AUTH', connections: gateway.connections }),
  );
  return defineRoutes(
    {
      async 'http:request'(req) {
        if (req.method === 'POST' && req.path === '/login') {
          const token = await tokens.issue({ subject: 'bench' });
          return req.reply(200, 'OK', 'text/plain', token, { 'Set-Cookie': `AUTH=${token}; Path=/; HttpOnly; SameSite=Strict` });
        }
        // A refused request has its answer already (403, 429).
        if (!(await access.check(req))) return;
        return req.handshake();
      },
      'websocket:message'(conn, data, isBinary) {
        conn.send(data, { binary: isBinary });
      },
      'routes:close': () => access.close(),
    },
    'guarded',
  );
};

export default guardedRoutes;
