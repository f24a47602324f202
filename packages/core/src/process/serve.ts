/**
 * One gateway process, as the `wsgate` command runs it: alone, or as a worker of a cluster (then the primary
 * serves metrics and management, and this process answers it over IPC).
 */
import cluster from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import { formatHostPort } from '../config/load.js';
import type { GatewayConfig } from '../config/types.js';
import { Gateway } from '../gateway.js';
import type { Logger } from '../observe/logger.js';
import { serveControl } from '../management/cluster-control.js';
import { LocalControl } from '../management/local-control.js';
import { startOperations } from '../management/operations.js';
import { loadRouteScript } from '../script/script-loader.js';
import { keepServingThroughStrayErrors } from './stray-errors.js';

export interface ServeOptions {
  readonly config: GatewayConfig;
  /** Reads config (and its file) again, for a reload. */
  readonly loadConfig: () => Promise<GatewayConfig>;
  readonly logger: Logger;
  /** The command's own lines (listening, reloaded, stopping): shown at every level but silent. */
  readonly announce: Logger;
}

/** Starts the gateway; resolves with the function that stops it gracefully. */
export async function serve({ config, loadConfig, logger, announce }: ServeOptions): Promise<() => Promise<void>> {
  const workerIndex = cluster.isWorker ? Number(process.env.WSGATE_WORKER_INDEX) : undefined;
  const log = workerIndex === undefined ? logger : logger.child({ worker: workerIndex });
  const gateway = new Gateway(config, { logger: log, ...(workerIndex !== undefined ? { workerIndex } : {}) });
  if (config.script) gateway.use(await loadRouteScript(config.script, gateway));
  await gateway.listen();

  // A reload reads everything again, as at start: an invalid config or script throws, and the running one stays.
  const reload = async () => {
    const next = await loadConfig();
    const routes = next.script ? await loadRouteScript(next.script, gateway) : [];
    try {
      await gateway.reload(next, routes);
    } catch (err) {
      // The new script's sets never served: stop what their factories started (timers, relays waiting for a port).
      await Promise.all(routes.map((r) => Promise.resolve(r.handlers['routes:close']?.('shutdown', 0)).catch(() => undefined)));
      throw err;
    }
  };
  const control = new LocalControl(gateway, reload);
  // From here on an error nobody caught is logged and counted, not the end of the process (before: exit 1).
  keepServingThroughStrayErrors({ logger: log, scriptPath: () => gateway.config.script?.path, registry: gateway.metrics.registry });

  if (workerIndex !== undefined) {
    // Constructing one is what makes prom-client answer the primary's metric requests in this worker.
    new AggregatorRegistry();
    AggregatorRegistry.setRegistries([gateway.metrics.registry]);
    serveControl(control);
    process.send?.({ wsgate: 'ready', addresses: gateway.addresses() });
    // The primary reloads and stops the workers; a SIGHUP to a worker alone reloads just that worker.
    process.on('SIGHUP', () => void reload().catch((err: unknown) => log.error({ err }, 'reload refused; the running config stays')));
    return () => gateway.close({ grace: gateway.config.shutdown.grace });
  }

  for (const address of gateway.addresses()) {
    announce.info({ name: address.name, url: `${address.tls ? 'wss' : 'ws'}://${formatHostPort(address.host, address.port)}` }, 'listening');
  }
  const registry = gateway.metrics.registry;
  const operations = await startOperations(config, control, async () => ({ contentType: registry.contentType, text: await registry.metrics() }));
  announceOperations(announce, config, operations);
  process.on('SIGHUP', () =>
    reload().then(
      () => announce.info({ signal: 'SIGHUP' }, 'reloaded'),
      (err: unknown) => logger.error({ err }, 'reload refused; the running config stays'),
    ),
  );
  return async () => {
    await Promise.all([gateway.close({ grace: gateway.config.shutdown.grace }), operations.close()]);
  };
}

export function announceOperations(announce: Logger, config: GatewayConfig, ops: { metricsPort?: number; managementPort?: number }): void {
  if (ops.metricsPort !== undefined) {
    announce.info({ url: `http://${formatHostPort(config.metrics!.host, ops.metricsPort)}${config.metrics!.path}` }, 'metrics');
  }
  if (ops.managementPort !== undefined) {
    announce.info({ url: `http://${formatHostPort(config.management!.host, ops.managementPort)}` }, 'management');
  }
}
