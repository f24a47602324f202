/**
 * One gateway process, as the `wsgate` command runs it: alone, or as a worker of a cluster (then the primary
 * serves metrics and management, and this process answers it over IPC).
 */
import cluster from 'node:cluster';
import { AggregatorRegistry, collectDefaultMetrics } from 'prom-client';
import { formatHostPort } from '../config/load.js';
import type { GatewayConfig } from '../config/types.js';
import { Gateway } from '../gateway.js';
import type { Logger } from '../observe/logger.js';
import { serveControl } from '../management/cluster-control.js';
import { LIVENESS_PATH, READINESS_PATH, type Readiness } from '../management/health.js';
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
  // The primary's session-ticket keys: a browser resumes its TLS session on whichever worker it lands.
  const ticketKeys = cluster.isWorker && process.env.WSGATE_TLS_TICKET_KEYS ? Buffer.from(process.env.WSGATE_TLS_TICKET_KEYS, 'hex') : undefined;
  delete process.env.WSGATE_TLS_TICKET_KEYS;
  const gateway = new Gateway(config, {
    logger: log,
    ...(workerIndex !== undefined ? { workerIndex } : {}),
    ...(ticketKeys?.length === 48 ? { tlsTicketKeys: ticketKeys } : {}),
  });
  // prom-client's process_* and nodejs_* metrics beside wsgate's: the command's; an embedder has its own.
  collectDefaultMetrics({ register: gateway.metrics.registry });
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
  // SIGUSR1, as nginx's: the log files (log.file, the access log) are opened again at their paths, after
  // rotation; one that cannot be is an error line, and the others are still reopened.
  const said = workerIndex === undefined ? announce : announce.child({ worker: workerIndex });
  const reopen = () => {
    const files: string[] = [];
    for (const reopenOne of [() => (logger.reopen ? [logger.reopen()] : []), () => gateway.reopenLogs()]) {
      try {
        files.push(...reopenOne());
      } catch (err) {
        log.error({ err }, 'cannot reopen a log file; the one in use stays in use');
      }
    }
    said.info({ signal: 'SIGUSR1', files }, 'reopened logs');
  };
  process.on('SIGUSR1', reopen);

  if (workerIndex !== undefined) {
    // Constructing one is what makes prom-client answer the primary's metric requests in this worker.
    new AggregatorRegistry();
    AggregatorRegistry.setRegistries([gateway.metrics.registry]);
    serveControl(control);
    // The primary passes SIGUSR1 on over IPC: a signal could reach a worker before it has a handler.
    process.on('message', (m: { wsgate?: string }) => void (m?.wsgate === 'reopen' && reopen()));
    process.send?.({ wsgate: 'ready', addresses: gateway.addresses() });
    // The primary reloads and stops the workers; a SIGHUP to a worker alone reloads just that worker.
    process.on('SIGHUP', () => void reload().catch((err: unknown) => log.error({ err }, 'reload refused; the running config stays')));
    return () => gateway.close({ grace: gateway.config.shutdown.grace });
  }

  for (const address of gateway.addresses()) {
    announce.info({ name: address.name, url: `${address.tls ? 'wss' : 'ws'}://${formatHostPort(address.host, address.port)}` }, 'listening');
  }
  const registry = gateway.metrics.registry;
  let stopping = false;
  const readiness = (): Readiness => {
    if (stopping) return { ready: false, detail: 'shutting down' };
    const n = gateway.addresses().length;
    return { ready: true, detail: `${n} listener${n === 1 ? '' : 's'}` };
  };
  const operations = await startOperations(
    config,
    control,
    async () => ({ contentType: registry.contentType, text: await registry.metrics() }),
    readiness,
  );
  announceOperations(announce, config, operations);
  process.on('SIGHUP', () =>
    reload().then(
      () => announce.info({ signal: 'SIGHUP' }, 'reloaded'),
      (err: unknown) => logger.error({ err }, 'reload refused; the running config stays'),
    ),
  );
  return async () => {
    // /readyz answers 503 through the drain; the metrics and management listeners close after it.
    stopping = true;
    await gateway.close({ grace: gateway.config.shutdown.grace });
    await operations.close();
  };
}

export function announceOperations(announce: Logger, config: GatewayConfig, ops: { metricsPort?: number; managementPort?: number; tokenFile?: string }): void {
  if (ops.metricsPort !== undefined) {
    const base = `http://${formatHostPort(config.metrics!.host, ops.metricsPort)}`;
    announce.info({ url: `${base}${config.metrics!.path}`, health: `${base}${LIVENESS_PATH}`, ready: `${base}${READINESS_PATH}` }, 'metrics');
  }
  if (ops.managementPort !== undefined) {
    const url = `http://${formatHostPort(config.management!.host, ops.managementPort)}`;
    announce.info({ url, ...(ops.tokenFile !== undefined ? { tokenFile: ops.tokenFile } : {}) }, 'management');
  }
}
