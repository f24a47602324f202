/**
 * Story S2 (docs/design.md), basic-auth variant: the media server's nginx front (./media-site.ts) with the
 * source documents' server-wide
 *
 *   auth_basic "Restricted Area";
 *   auth_basic_user_file /etc/nginx/.htpasswd;
 *
 * as a route script. The client's real address comes from the config's `realIp` (a trusted balancer's
 * `X-Client-IP: ip:port`, or the TCP peer) and goes on to the media server in the same header.
 *
 * Options (`script.options`): `upstream` (the media server, `wss://host:port`, required), `hook` (the REST hook's URL,
 * optional), `maxBodySize` (bytes, default 1 MiB), `htpasswd` (default `./htpasswd`, relative to this
 * folder), `realm` (default `media`).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineRoutes, type RouteFactory } from '@wsgate/core';
import { basicAuth } from '@wsgate/routes';
import { mediaSite, mediaSiteOptions } from './media-site.js';
import { stringOption } from './script-options.js';

const here = path.dirname(fileURLToPath(import.meta.url));

const s2MediaBasic: RouteFactory = ({ gateway, options }) => {
  const site = mediaSite({
    ...mediaSiteOptions(options),
    access: basicAuth({ file: path.resolve(here, stringOption(options, 'htpasswd', './htpasswd')), realm: stringOption(options, 'realm', 'media') }),
    // The media server learns who logged in (nginx's $remote_user), never the password.
    headers: { 'X-Remote-User': (req) => req.get('user') as string | undefined, Authorization: null },
    logger: gateway.logger,
  });

  return defineRoutes(
    {
      'http:request'(req) {
        req.setReplyClose();
        return site.route(req);
      },
      'routes:close': (reason) => site.close(reason),
    },
    's2-media-basic',
  );
};

export default s2MediaBasic;
