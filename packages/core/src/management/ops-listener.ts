import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WsgateError } from '../errors.js';
import { answerHealth, LIVENESS_PATH, pathnameOf, READINESS_PATH, type Readiness } from './health.js';

/** A small HTTP listener for operations (metrics, management): plain HTTP, meant for loopback or a private network. */
export interface OpsListener {
  readonly port: number;
  close(): Promise<void>;
}

export async function startOpsListener(
  what: 'metrics' | 'management',
  host: string,
  port: number,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<OpsListener> {
  const server = http.createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new WsgateError('WSGATE_LISTEN', `${what} (${host}:${port}): ${err.code === 'EADDRINUSE' ? 'address already in use: choose another port' : err.message}`, { cause: err })),
    );
    server.listen({ host, port }, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Serves a Prometheus registry's text at `path`, and the health probes (health.ts). */
export function metricsHandler(
  path: string,
  collect: () => Promise<{ contentType: string; text: string }>,
  readiness: () => Readiness = () => ({ ready: true, detail: 'serving' }),
) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const pathname = pathnameOf(req);
    if (pathname !== path) {
      if (answerHealth(pathname, res, readiness)) return;
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`Not found: metrics are at ${path}, health at ${LIVENESS_PATH} and ${READINESS_PATH}\n`);
      return;
    }
    collect().then(
      ({ contentType, text }) => res.writeHead(200, { 'Content-Type': contentType }).end(text),
      (err: Error) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`${err.message}\n`),
    );
  };
}
