/**
 * The sample gateway's route: a TypeScript port of this Kamailio route, with 80/443 replaced by the
 * configured ports (`script.options.ports`; every listener's port when not set):
 *
 *   event_route[xhttp:request] {
 *       set_reply_close();
 *       set_reply_no_connect();
 *       if ($Rp != 80 && $Rp != 443) { xhttp_reply("403", "Forbidden", "", ""); exit; }
 *       if ($hdr(Upgrade)=~"websocket" && $hdr(Connection)=~"Upgrade" && $rm=~"GET") {
 *           if ($hdr(Host) == $null || !is_myself($hdr(Host))) { xhttp_reply("403", "Forbidden", "", ""); exit; }
 *           # Optional... validate Origin
 *           # Optional... perform HTTP authentication
 *           ws_handle_handshake();
 *       }
 *       xhttp_reply("404", "Not found", "", "");
 *   }
 *
 * Subprotocols: `sip` (a small SIP responder, the embedding demonstration) and `echo`.
 */
import { defineRoutes, WsgateError, type RouteFactory } from '@wsgate/core';
import { answerSip } from './sip.js';

const sample: RouteFactory = ({ gateway, options }) => {
  const configured = portsOption(options.ports);
  // Listener ports are known only once the gateway listens, after this factory runs: resolve on first use.
  let allowed: ReadonlySet<number> | undefined;
  const allowedPorts = () => (allowed ??= new Set(configured ?? gateway.addresses().map((a) => a.port)));

  return defineRoutes(
    {
      'http:request'(req) {
        req.setReplyClose();
        // set_reply_no_connect(): wsgate always answers on the connection the request came in on.
        if (!allowedPorts().has(req.port)) return req.reply(403, 'Forbidden');
        if (req.isWebSocketUpgrade) {
          if (!req.host || !req.isMyself(req.host)) return req.reply(403, 'Forbidden');
          // Optional... validate Origin
          // Optional... perform HTTP authentication
          // Like ws_handle_handshake(): a client that offers neither subprotocol is refused with 400.
          return req.handshake({ protocols: ['sip', 'echo'], requireProtocol: true });
        }
        return req.reply(404, 'Not found');
      },

      'websocket:message'(conn, data, isBinary) {
        if (conn.protocol === 'echo') {
          conn.send(data, { binary: isBinary });
        } else if (!isBinary) {
          const answer = answerSip(data.toString());
          if (answer !== undefined) conn.send(answer);
        }
      },
    },
    'sample',
  );
};

export default sample;

function portsOption(value: unknown): readonly number[] | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value) && value.every((p) => Number.isInteger(p) && p > 0 && p < 65536)) return value as number[];
  throw new WsgateError('WSGATE_SCRIPT_INVALID', 'script.options.ports: must be a list of port numbers, e.g. [8080, 8443]');
}
