/**
 * The SIP benchmark's wsgate route script, loaded by the `wsgate` CLI from the config wsgate.ts writes:
 * WebSockets that offer the `sip` subprotocol, and the SIP registrar and proxy of `sipService` with SIP
 * digest against the same htdigest file Kamailio's users come from. MD5 challenges only, as Kamailio sends.
 *
 * Script options: `domain` (the SIP domain and realm), `htdigest` (the credentials file).
 */
import { defineRoutes, WsgateError, type RouteFactory } from '@wsgate/core';
import { sipDigest, sipService } from '@wsgate/sip';

const sipBench: RouteFactory = ({ gateway, options }) => {
  const { domain, htdigest } = options;
  if (typeof domain !== 'string' || typeof htdigest !== 'string') {
    throw new WsgateError('WSGATE_SCRIPT_INVALID', 'script.options: give domain (e.g. example.com) and htdigest (a file path)');
  }
  const sip = sipService({
    domains: [domain],
    auth: sipDigest({ realm: domain, file: htdigest, algorithms: ['MD5'], logger: gateway.logger }),
    gateway, // as a user would mount it: metrics, the registrations view, the logger
  });
  return defineRoutes(
    {
      'http:request'(req) {
        if (req.isWebSocketUpgrade) return req.handshake({ protocols: ['sip'], requireProtocol: true });
        return req.reply(404, 'Not Found');
      },
      ...sip.routes,
    },
    'sip-bench',
  );
};

export default sipBench;
