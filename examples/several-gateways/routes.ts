/**
 * The route each of the three gateways behind HAProxy runs (a.yaml, b.yaml, c.yaml): WebSockets of the `chat`
 * subprotocol, the user named by the query (`/?user=alice`), and a handshake rate per client address counted
 * in the gateways' shared Redis (`gateway.store`), so that a client gets `script.options.handshakesPerMinute`
 * in all, whichever node HAProxy sends each attempt to. The client's address is the one HAProxy's PROXY
 * preface gives (`proxyProtocol: true` on the listener), not HAProxy's own.
 */
import { defineRoutes, WsgateError, type RouteFactory } from '@wsgate/core';
import { rateLimit } from '@wsgate/routes';

const severalGateways: RouteFactory = ({ gateway, options }) => {
  const perMinute = options.handshakesPerMinute ?? 20;
  if (typeof perMinute !== 'number' || !Number.isInteger(perMinute) || perMinute < 1) {
    throw new WsgateError('WSGATE_SCRIPT_INVALID', `script.options.handshakesPerMinute: expected a whole number above 0, got ${JSON.stringify(perMinute)}`);
  }
  // Open while Redis is out of reach (the default): a lost count must not lock every client out.
  const limit = rateLimit({ handshakes: { limit: perMinute, window: 60 }, store: gateway.store, gateway });
  return defineRoutes({
    async 'http:request'(req) {
      if (!req.isWebSocketUpgrade) return req.refuse(403, 'upgrade', 'WebSocket upgrades only');
      if (!(await limit.check(req))) return;
      req.set('user', req.query.get('user') ?? 'anonymous');
      return req.handshake({ protocols: ['chat'], requireProtocol: true });
    },
    'routes:close': () => limit.close(),
  });
};
export default severalGateways;
