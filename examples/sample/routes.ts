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
 * Subprotocols: `sip` — a SIP registrar and proxy for browser phones (JsSIP, SIP.js) of the domain in
 * `script.options.sip.domain`, authenticated with SIP digest against an htdigest file — and `echo`.
 */
import { defineRoutes, type RouteFactory } from '@wsgate/core';
import { sipDigest, sipService } from '@wsgate/sip';
import { sampleOptions } from './options.js';

const sample: RouteFactory = ({ gateway, options }) => {
  const o = sampleOptions(options);
  // Listener ports are known only once the gateway listens, after this factory runs: resolve on first use.
  let allowed: ReadonlySet<number> | undefined;
  const allowedPorts = () => (allowed ??= new Set(o.ports ?? gateway.addresses().map((a) => a.port)));
  // Browser phones cannot answer a 401 on the upgrade: they authenticate in SIP (REGISTER 401, INVITE 407).
  const sip = sipService({
    domains: [o.sip.domain],
    auth: sipDigest({ realm: o.sip.domain, file: o.sip.htdigest, logger: gateway.logger, store: gateway.store }),
    gateway, // wsgate_sip_* metrics, `wsgate ctl registrations`, its logger
  });

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
        if (conn.protocol === 'echo') return void conn.send(data, { binary: isBinary });
        return sip.routes['websocket:message'](conn, data);
      },

      async 'websocket:closed'(conn) {
        // event_route[websocket:closed]: the phone's registrations go with its WebSocket
        if (conn.protocol === 'sip') await sip.routes['websocket:closed'](conn);
      },

      'routes:close'() {
        sip.close();
      },
    },
    'sample',
  );
};

export default sample;
