/** The auth benchmark's `direct` route script: every request upgraded at once, messages echoed: the site's own cost, by difference. */
import { defineRoutes } from '@wsgate/core';

export default defineRoutes({ 'http:request': (req) => req.handshake(), 'websocket:message': (conn, data) => conn.send(data) }, 'direct');
