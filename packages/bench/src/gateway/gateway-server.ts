/**
 * The wsgate sample gateway in terminate mode, started from code with the default limits but one: the
 * listener's connection cap is raised above the idle-connection figure's 10,000. Its `sip` subprotocol is the
 * sample's SIP service for example.com (registrar and proxy, S1's demo users).
 */
import { Gateway, resolveConfig } from '@wsgate/core';
import { sampleRoutes } from '@wsgate/examples';
import { SAMPLE_OPTIONS } from './sample-options.js';
import { serveChild } from './server-child.js';

await serveChild('wsgate', async () => {
  const gateway = new Gateway(
    resolveConfig(
      {
        listeners: [{ host: '127.0.0.1', port: 0 }],
        limits: { maxConnections: 16_000 },
        log: { level: 'warn' },
      },
      process.cwd(),
    ),
  );
  gateway.use(await sampleRoutes({ gateway, options: SAMPLE_OPTIONS }));
  await gateway.listen();
  const first = gateway.addresses()[0];
  if (!first) throw new Error('the gateway listens nowhere');
  return first.port;
});
