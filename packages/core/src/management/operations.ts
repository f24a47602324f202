import { readFile } from 'node:fs/promises';
import type { GatewayConfig } from '../config/types.js';
import { WsgateError } from '../errors.js';
import { createManagementHandler } from './api.js';
import type { GatewayControl } from './control.js';
import { metricsHandler, startOpsListener, type OpsListener } from './ops-listener.js';

/** The metrics and management listeners, as the config asks for them. */
export interface Operations {
  readonly metricsPort?: number;
  readonly managementPort?: number;
  close(): Promise<void>;
}

/**
 * Starts what `config.metrics` and `config.management` ask for. In one process the sources are the gateway's
 * own; in a cluster, the primary's, which gather from every worker.
 */
export async function startOperations(
  config: GatewayConfig,
  control: GatewayControl,
  collectMetrics: () => Promise<{ contentType: string; text: string }>,
): Promise<Operations> {
  const started: OpsListener[] = [];
  let metricsPort: number | undefined;
  let managementPort: number | undefined;
  try {
    if (config.metrics) {
      const { host, port, path } = config.metrics;
      const l = await startOpsListener('metrics', host, port, metricsHandler(path, collectMetrics));
      started.push(l);
      metricsPort = l.port;
    }
    if (config.management) {
      const { host, port } = config.management;
      const token = await managementToken(config);
      const l = await startOpsListener('management', host, port, createManagementHandler(control, token));
      started.push(l);
      managementPort = l.port;
    }
  } catch (err) {
    await Promise.all(started.map((l) => l.close()));
    throw err;
  }
  return {
    ...(metricsPort !== undefined ? { metricsPort } : {}),
    ...(managementPort !== undefined ? { managementPort } : {}),
    close: async () => void (await Promise.all(started.map((l) => l.close()))),
  };
}

/** The bearer token, inline or from its file (trimmed: editors add a newline). */
export async function managementToken(config: GatewayConfig): Promise<string> {
  const m = config.management!;
  if (m.token !== undefined) return m.token;
  let token: string;
  try {
    token = (await readFile(m.tokenFile!, 'utf8')).trim();
  } catch (err) {
    throw new WsgateError('WSGATE_CONFIG_UNREADABLE', `management.tokenFile: cannot read ${m.tokenFile} (${(err as NodeJS.ErrnoException).code ?? err}): check the path`, { cause: err });
  }
  if (token.length < 16) {
    throw new WsgateError('WSGATE_CONFIG_INVALID', `management.tokenFile: ${m.tokenFile} must hold a token of at least 16 characters`);
  }
  return token;
}
