/**
 * Story S1 (docs/design.md): Kamailio's WebSocket route with its two optional steps filled in — Origin validation
 * and HTTP digest authentication — as a route script:
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
 *   event_route[websocket:closed] { xlog("L_INFO", "WebSocket connection from $si:$sp has closed\n"); }
 *
 * What is not a WebSocket is passed on (`req.next()`) to the route sets mounted after this one — the XCAP
 * server, `xcap()` — and what none of them takes gets `404 Not found`. `set_reply_close()` holds for those
 * answers too: the flag is the request's, whichever route set replies.
 *
 * The WebSocket speaks `sip` (RFC 7118): each text message is one SIP message, for a registrar and proxy of the
 * realm's domain (`@wsgate/sip`, Kamailio's registrar, tm, rr and auth modules). Who authenticates where:
 * - a SIP user agent outside a browser sends no Origin and answers HTTP digest on the upgrade, as Kamailio's
 *   route asks; its SIP identity is then bound to that user and not challenged again;
 * - a browser phone (JsSIP, SIP.js) cannot answer a 401 on the upgrade: its page's Origin must be listed, and it
 *   answers SIP digest instead (REGISTER 401, INVITE 407), against the same htdigest file.
 */
import { defineRoutes, type RouteFactory } from '@wsgate/core';
import { allOf, digestAuth, host, origin, xcap } from '@wsgate/routes';
import { sipDigest, sipService } from '@wsgate/sip';
import { readOptions } from './options.js';

const s1Kamailio: RouteFactory = ({ gateway, options }) => {
  const o = readOptions(options);
  const ports = new Set(o.ports);
  const secret = o.digestSecret !== undefined ? { secret: o.digestSecret } : {};
  // Kamailio's order: Host, then Origin, then credentials, so that a foreign page or name never gets a
  // digest challenge (nor uses up a nonce).
  const page = allOf(host(), origin({ allow: o.origins, missing: 'allow' }));
  // Replies 401 with SHA-256 and MD5 challenges itself; nonces expire after 5 minutes, replayed counts are refused.
  const httpDigest = digestAuth({ realm: o.realm, file: o.htdigest, ...secret });
  const sip = sipService({
    domains: [o.realm],
    // trustConnection: a UA that passed HTTP digest on the upgrade is that user; a browser phone answers SIP digest
    auth: sipDigest({ realm: o.realm, file: o.htdigest, trustConnection: true, logger: gateway.logger, store: gateway.store, ...secret }),
    gateway, // wsgate_sip_* metrics, `wsgate ctl registrations`, its logger
  });

  // Two route sets, mounted in this order: XCAP sees only what the Kamailio route passed on.
  const kamailio = defineRoutes<{ user: string }>(
    {
      async 'http:request'(req) {
        req.setReplyClose();
        // set_reply_no_connect() has no counterpart: wsgate always answers on the connection the request came in on.
        if (!ports.has(req.port)) return req.refuse(403, 'port', `port ${req.port} is not served here`);
        if (req.isWebSocketUpgrade) {
          if (!(await page.check(req))) return;
          // SIP UAs are not browsers and send no Origin: HTTP digest on the upgrade; browser phones: SIP digest later.
          if (req.origin === undefined && !(await httpDigest.check(req))) return;
          // ws_handle_handshake(): a client that does not offer `sip` gets 400 naming it.
          return req.handshake({ protocols: ['sip'], requireProtocol: true });
        }
        return req.next();
      },

      'websocket:message'(conn, data) {
        return sip.routes['websocket:message'](conn, data);
      },

      async 'websocket:closed'(conn, { code, by }) {
        // The registrar drops the contacts registered over this connection at once.
        await sip.routes['websocket:closed'](conn);
        gateway.logger.info({ user: conn.get('user'), client: `${conn.remoteAddress}:${conn.remotePort}`, code, by }, 'SIP WebSocket closed');
      },

      async 'routes:close'() {
        sip.close();
        await Promise.all([page.close(), httpDigest.close()]);
      },
    },
    's1-kamailio',
  );
  // Kamailio's xcap_server on the same port (RFC 4825): a user's documents live under their SIP URI, and a request
  // without credentials gets the same digest challenges as the upgrade (the same users, nonces and counts).
  const xcapServer = xcap({ gateway, auth: httpDigest, xuis: (user) => [`sip:${user}@${o.realm}`] });
  return [kamailio, xcapServer];
};

export default s1Kamailio;
