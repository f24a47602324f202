/**
 * A server child for ./bench-auth.ts: a gateway running story S2's cookie-token route (@wsgate/examples), either with Origin + cookie
 * token + rate limit (`guarded`, limits high enough never to refuse the benchmark's load) or with no checks
 * at all (`WSGATE_BENCH_AUTH=bare`): the same site (page, locations, upgrade header checks, echo), so that
 * only the checks' cost differs. `WSGATE_BENCH_AUTH=direct`: a route that upgrades every request at once,
 * for the site's own cost.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineRoutes, Gateway, resolveConfig } from '@wsgate/core';
import { mediaCookieRoutes, mediaSite, mediaSiteOptions, s2MediaCookie } from '@wsgate/examples';
import { allOf } from '@wsgate/routes';
import { serveChild } from '../gateway/server-child.js';
import { BENCH_ORIGIN, BENCH_TOKEN, UNREFUSED_LIMITS } from './bench-auth.js';

const MODES = ['guarded', 'bare', 'direct'] as const;
const mode = MODES.find((m) => m === process.env.WSGATE_BENCH_AUTH) ?? 'guarded';

await serveChild(`wsgate (${mode})`, async () => {
  const gateway = new Gateway(
    resolveConfig({ listeners: [{ host: '127.0.0.1', port: 0 }], limits: { maxConnections: 16_000 }, log: { level: 'warn' } }, process.cwd()),
  );
  if (mode === 'direct') {
    gateway.use(defineRoutes({ 'http:request': (req) => req.handshake(), 'websocket:message': (conn, data) => conn.send(data) }, 'direct'));
  } else if (mode === 'bare') {
    // allOf() of no guards admits every request.
    gateway.use(mediaCookieRoutes(mediaSite({ ...mediaSiteOptions({}, true), access: allOf(), logger: gateway.logger })));
  } else {
    const tokens = mkdtempSync(join(tmpdir(), 'wsgate-bench-tokens-'));
    writeFileSync(join(tokens, BENCH_TOKEN), '');
    const options = { tokens, origins: [BENCH_ORIGIN], ...UNREFUSED_LIMITS };
    gateway.use(await s2MediaCookie({ gateway, options }));
  }
  await gateway.listen();
  return gateway.addresses()[0]!.port;
});
