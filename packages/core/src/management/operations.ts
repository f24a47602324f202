import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { GatewayConfig } from '../config/types.js';
import { WsgateError } from '../errors.js';
import { createManagementHandler } from './api.js';
import type { GatewayControl } from './control.js';
import type { Readiness } from './health.js';
import { metricsHandler, startOpsListener, type OpsListener } from './ops-listener.js';

/** The metrics and management listeners, as the config asks for them. */
export interface Operations {
  readonly metricsPort?: number;
  readonly managementPort?: number;
  /** The file the management token was read from (absent when the config gives it inline). */
  readonly tokenFile?: string;
  close(): Promise<void>;
}

/**
 * Starts what `config.metrics` and `config.management` ask for. In one process the sources are the gateway's
 * own; in a cluster, the primary's, which gather from every worker. `readiness` answers `/readyz` on the
 * metrics listener (health.ts).
 */
export async function startOperations(
  config: GatewayConfig,
  control: GatewayControl,
  collectMetrics: () => Promise<{ contentType: string; text: string }>,
  readiness?: () => Readiness,
): Promise<Operations> {
  const started: OpsListener[] = [];
  let metricsPort: number | undefined;
  let managementPort: number | undefined;
  try {
    if (config.metrics) {
      const { host, port, path } = config.metrics;
      const l = await startOpsListener('metrics', host, port, metricsHandler(path, collectMetrics, readiness));
      started.push(l);
      metricsPort = l.port;
    }
    if (config.management) {
      const { host, port } = config.management;
      const token = await managementToken(config, 'start');
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
    ...(config.management?.token === undefined && config.management ? { tokenFile: tokenFileOf(config) } : {}),
    close: async () => void (await Promise.all(started.map((l) => l.close()))),
  };
}

/** The name of the token file a gateway makes in `dataDir` when the config gives neither token nor tokenFile. */
export const MADE_TOKEN_FILE = 'management.token';

/** Where the bearer token is kept: `management.tokenFile`, else `<dataDir>/management.token`. */
export function tokenFileOf(config: GatewayConfig): string {
  return config.management?.tokenFile ?? path.join(config.dataDir, MADE_TOKEN_FILE);
}

/**
 * The bearer token: inline, from `tokenFile` (trimmed: editors add a newline), or, with neither, from
 * `<dataDir>/management.token`, which a start (`'start'`) makes when it is missing, as it makes a
 * self-signed certificate. A check (`'check'`) of a token not made yet finds nothing wrong and returns ''.
 */
export async function managementToken(config: GatewayConfig, use: 'start' | 'check' | 'read' = 'read'): Promise<string> {
  const m = config.management!;
  if (m.token !== undefined) return m.token;
  const made = m.tokenFile === undefined;
  const file = tokenFileOf(config);
  const field = made ? 'management' : 'management.tokenFile';
  let token: string;
  try {
    token = (await readFile(file, 'utf8')).trim();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (made && code === 'ENOENT' && use === 'check') return '';
    if (made && code === 'ENOENT' && use === 'start') return makeToken(file);
    const fix = made
      ? code === 'ENOENT'
        ? 'the gateway makes it on its first start: start it first, or give management.token or management.tokenFile'
        : "check dataDir's permissions"
      : 'check the path';
    throw new WsgateError('WSGATE_CONFIG_UNREADABLE', `${field}: cannot read ${file} (${code ?? err}): ${fix}`, { cause: err });
  }
  if (token.length < 16) {
    throw new WsgateError('WSGATE_CONFIG_INVALID', `${field}: ${file} must hold a token of at least 16 characters`);
  }
  return token;
}

/**
 * Makes a fresh token file (mode 0600). Written whole under a temporary name, then linked into place, which
 * fails if another process got there first: then both use the one on disk.
 */
async function makeToken(file: string): Promise<string> {
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await writeFile(temp, `${randomBytes(24).toString('base64url')}\n`, { mode: 0o600 });
    await link(temp, file).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    return (await readFile(file, 'utf8')).trim();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new WsgateError('WSGATE_CONFIG_UNREADABLE', `management: cannot keep a token in ${file} (${code}): make dataDir writable, or give management.token or management.tokenFile`, {
      cause: err,
    });
  } finally {
    await rm(temp, { force: true });
  }
}
