/**
 * The route script of the send-to-connection benchmark, as a user writes a direct message between two
 * WebSockets that may be on different gateways: `/receive` is told its connection id in a first message;
 * every message on `/send?to=<id>` goes to that connection through `gateway.connections.send()`, which
 * reaches a connection of another node through Redis (connections/shared-directory.ts) and one of this node
 * at once.
 */
import { defineRoutes, type RouteFactory } from '@wsgate/core';

type Attributes = { to: number };

const relayRoutes: RouteFactory = ({ gateway }) =>
  defineRoutes<Attributes>(
    {
      'http:request'(req) {
        if (req.path === '/receive') return req.handshake();
        if (req.path === '/send') {
          const to = Number(req.query.get('to'));
          if (!Number.isSafeInteger(to) || to <= 0) return req.reply(400, 'Bad Request', 'text/plain', 'give ?to=<connection id>');
          req.set('to', to);
          return req.handshake();
        }
        return req.reply(404, 'Not Found', 'text/plain', 'try /receive or /send?to=<id>');
      },
      'websocket:open'(conn) {
        if (conn.path === '/receive') conn.send(JSON.stringify({ id: conn.id }));
      },
      'websocket:message'(conn, data, isBinary) {
        const to = conn.get('to');
        if (to === undefined) return;
        // A promise for another node's connection: its rejection (the node did not answer) is logged.
        const sent = gateway.connections.send(to, isBinary ? data : data.toString());
        if (typeof sent !== 'boolean') return sent.then(() => undefined);
      },
    },
    'relay',
  );

export default relayRoutes;
