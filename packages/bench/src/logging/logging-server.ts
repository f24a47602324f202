/**
 * A gateway started from code with the sample route (the benchmark's, ../gateway/sample-gateway.ts, runs it
 * from its CLI instead) and a logger of our choice at `info`, so that each handshake writes the `websocket
 * opened` and `websocket closed` lines, to /dev/null; or, `none`, pino at `warn`: no line. Entries for
 * `gateway/cpu-per-handshake.js`, one per logger:
 *
 *   tsc -b && node packages/bench/dist/gateway/cpu-per-handshake.js \
 *     packages/bench/dist/logging/json-lines-server.js packages/bench/dist/logging/pino-server.js \
 *     packages/bench/dist/logging/no-line-server.js
 */
import { openSync, writeSync } from 'node:fs';
import { createLogger, Gateway, resolveConfig, type Logger } from '@wsgate/core';
import { sampleRoutes } from '@wsgate/examples';
import { SAMPLE_OPTIONS } from '../gateway/sample-options.js';
import { serveChild } from '../gateway/server-child.js';
import { jsonLinesLogger } from './json-lines-logger.js';

export async function serveWithLogger(which: 'json-lines' | 'pino' | 'none'): Promise<void> {
  const fd = openSync('/dev/null', 'a');
  const logger: Logger =
    which === 'json-lines' ? jsonLinesLogger((line) => void writeSync(fd, line)) : createLogger({ level: which === 'pino' ? 'info' : 'warn', fd });
  await serveChild(`wsgate (${which} logger)`, async () => {
    const gateway = new Gateway(resolveConfig({ listeners: [{ host: '127.0.0.1', port: 0 }], limits: { maxConnections: 16_000 } }, process.cwd()), { logger });
    gateway.use(await sampleRoutes({ gateway, options: SAMPLE_OPTIONS }));
    await gateway.listen();
    const first = gateway.addresses()[0];
    if (!first) throw new Error('the gateway listens nowhere');
    return first.port;
  });
}
