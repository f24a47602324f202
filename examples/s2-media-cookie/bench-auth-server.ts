/**
 * A server child for ./bench-auth.ts: a gateway that upgrades every request at once (`WSGATE_BENCH_AUTH=bare`)
 * or one running this example's route, Origin + cookie token + rate limit (`guarded`), with limits high
 * enough never to refuse the benchmark's load.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineRoutes, Gateway, resolveConfig } from '@wsgate/core';
import { serveChild } from '../bench/server-child.js';
import { BENCH_ORIGIN, BENCH_TOKEN } from './bench-auth.js';
import s2MediaCookie from './routes.js';

const mode = process.env.WSGATE_BENCH_AUTH === 'bare' ? 'bare' : 'guarded';

await serveChild(`wsgate (${mode})`, async () => {
  const gateway = new Gateway(
    resolveConfig({ listeners: [{ host: '127.0.0.1', port: 0 }], limits: { maxConnections: 16_000 }, log: { level: 'warn' } }, process.cwd()),
  );
  if (mode === 'bare') {
    // The same application (a message route) as the example, without the checks: only their cost differs.
    gateway.use(defineRoutes({ 'http:request': (req) => req.handshake(), 'websocket:message': (conn, data) => conn.send(data) }, 'bare'));
  } else {
    const tokens = mkdtempSync(join(tmpdir(), 'wsgate-bench-tokens-'));
    writeFileSync(join(tokens, BENCH_TOKEN), '');
    const options = { tokens, origins: [BENCH_ORIGIN], handshakesPerSecond: 100_000_000, connectionsPerIp: 1_000_000 };
    gateway.use(await s2MediaCookie({ gateway, options }));
  }
  await gateway.listen();
  return gateway.addresses()[0]!.port;
});
