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
 * What is not a WebSocket is passed on (`req.next()`) to the route sets mounted after this one — XCAP
 * (./xcap.ts) — and what none of them takes gets `404 Not found`. `set_reply_close()` holds for those
 * answers too: the flag is the request's, whichever route set replies.
 *
 * The WebSocket speaks `sip` (RFC 7118): each text message is one SIP message, answered by the sample
 * gateway's stateless responder (OPTIONS → 200, other requests → 501), standing in for a SIP server.
 */
import { defineRoutes, type RouteFactory } from '@wsgate/core';
import { allOf, digestAuth, host, origin } from '@wsgate/routes';
import { answerSip } from '../sample/sip.js';
import { readOptions } from './options.js';
import { xcapRoutes } from './xcap.js';

const s1Kamailio: RouteFactory = ({ gateway, options }) => {
  const o = readOptions(options);
  const ports = new Set(o.ports);
  // Kamailio's order: Host, then Origin, then credentials, so that a foreign page or name never gets a
  // digest challenge (nor uses up a nonce).
  const access = allOf(
    host(),
    // SIP user agents are not browsers and send no Origin; a browser always does, and only the listed pages pass.
    origin({ allow: o.origins, missing: 'allow' }),
    // Replies 401 with SHA-256 and MD5 challenges itself; nonces expire after 5 minutes, replayed counts are refused.
    digestAuth({ realm: o.realm, file: o.htdigest, ...(o.digestSecret !== undefined ? { secret: o.digestSecret } : {}) }),
  );

  // Two route sets, mounted in this order: XCAP sees only what the Kamailio route passed on.
  const kamailio = defineRoutes<{ user: string }>(
    {
      async 'http:request'(req) {
        req.setReplyClose();
        // set_reply_no_connect() has no counterpart: wsgate always answers on the connection the request came in on.
        if (!ports.has(req.port)) return req.refuse(403, 'port', `port ${req.port} is not served here`);
        if (req.isWebSocketUpgrade) {
          if (!(await access.check(req))) return;
          // ws_handle_handshake(): a client that does not offer `sip` gets 400 naming it.
          return req.handshake({ protocols: ['sip'], requireProtocol: true });
        }
        return req.next();
      },

      'websocket:message'(conn, data, isBinary) {
        if (isBinary) return; // RFC 7118 §5: SIP messages travel in text frames; a binary frame carries none here.
        const answer = answerSip(data.toString());
        if (answer !== undefined) conn.send(answer);
      },

      'websocket:closed'(conn, { code, by }) {
        // Where a registrar would drop the contacts this user registered over the connection.
        gateway.logger.info({ user: conn.get('user'), client: `${conn.remoteAddress}:${conn.remotePort}`, code, by }, 'SIP WebSocket closed');
      },

      async 'routes:close'() {
        await access.close();
      },
    },
    's1-kamailio',
  );
  return [kamailio, xcapRoutes()];
};

export default s1Kamailio;
