/**
 * The XCAP side of the S1 port (RFC 4825), as Kamailio's xcap_server serves it on the same port as the
 * WebSockets: a route set of its own, mounted after the Kamailio route, which it reaches only through that
 * route's `req.next()`. It serves the one document every XCAP server has, the capabilities
 * (`<root>/xcap-caps/global/index`); everything else it passes on, to the gateway's `404 Not found`.
 */
import { createHash } from 'node:crypto';
import { defineRoutes, WsgateError, type Routes } from '@wsgate/core';

export interface XcapOptions {
  /** The XCAP root's path (RFC 4825 §6.1), without a trailing slash. Default `/xcap-root`, as Kamailio's. */
  readonly root?: string;
}

/** RFC 4825 §12.2: the application usages and namespaces this server understands. */
const CAPS = `<?xml version="1.0" encoding="UTF-8"?>
<xcap-caps xmlns="urn:ietf:params:xml:ns:xcap-caps">
  <auids>
    <auid>xcap-caps</auid>
  </auids>
  <namespaces>
    <namespace>urn:ietf:params:xml:ns:xcap-caps</namespace>
    <namespace>urn:ietf:params:xml:ns:xcap-error</namespace>
  </namespaces>
</xcap-caps>
`;

export function xcapRoutes(options: XcapOptions = {}): Routes {
  const root = options.root ?? '/xcap-root';
  if (!/^(\/[\w.~-]+)+$/.test(root)) throw new WsgateError('WSGATE_CONFIG_INVALID', `xcapRoutes().root: expected a path such as /xcap-root, got ${JSON.stringify(root)}`);
  const capsPath = `${root}/xcap-caps/global/index`;
  // RFC 4825 §7.11: every document has an entity tag; clients use it for conditional requests.
  const etag = `"${createHash('sha256').update(CAPS).digest('base64url').slice(0, 22)}"`;

  return defineRoutes(
    {
      'http:request'(req) {
        if (req.path !== capsPath) return req.next();
        // The capabilities are the server's own: clients may read them, never write them.
        if (req.method !== 'GET' && req.method !== 'HEAD') return req.reply(405, 'Method Not Allowed', '', '', { Allow: 'GET, HEAD' });
        return req.reply(200, 'OK', 'application/xcap-caps+xml', CAPS, { ETag: etag });
      },
    },
    'xcap',
  );
}
