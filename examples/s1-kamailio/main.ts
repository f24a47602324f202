/**
 * The S1 gateway as a process: the config's route script (the Kamailio route, ./routes.ts) and XCAP
 * (./xcap.ts) mounted after it, on the same listeners. The `wsgate` command mounts one route script; S1
 * needs two route sets, so this file embeds the gateway, as a SIP server embedding wsgate would.
 *
 * Run from the repository root: `node examples/dist/s1-kamailio/main.js [examples/s1-kamailio/wsgate.yaml]`
 * (after `npm run build`). SIGTERM or SIGINT closes gracefully.
 */
import { pathToFileURL } from 'node:url';
import { Gateway, loadConfigFile, loadRouteScript, WsgateError, type GatewayConfig, type Logger } from '@wsgate/core';
import { xcapRoutes } from './xcap.js';

/** Starts a gateway with the config's route script first and XCAP after it. */
export async function startS1Gateway(config: GatewayConfig, options: { logger?: Logger } = {}): Promise<Gateway> {
  if (!config.script) throw new WsgateError('WSGATE_CONFIG_INVALID', 's1-kamailio: the config needs script: { path: ./routes.ts, options: {...} }');
  const gateway = new Gateway(config, options);
  // Mount order is the pipeline's order: XCAP sees only what the Kamailio route passed on.
  gateway.use(await loadRouteScript(config.script, gateway)).use(xcapRoutes());
  await gateway.listen();
  return gateway;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const config = await loadConfigFile(process.argv[2] ?? 'examples/s1-kamailio/wsgate.yaml');
    const gateway = await startS1Gateway(config);
    for (const a of gateway.addresses()) gateway.logger.info({ name: a.name, url: `${a.tls ? 'wss' : 'ws'}://${a.host}:${a.port}` }, 'listening');
    const stop = () => void gateway.close({ grace: config.shutdown.grace }).then(() => process.exit(0));
    process.once('SIGTERM', stop).once('SIGINT', stop);
  } catch (err) {
    console.error(`s1-kamailio: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
