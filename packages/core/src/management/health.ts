import type { IncomingMessage, ServerResponse } from 'node:http';

/** Whether the gateway takes traffic now, and a word on why (or what serves). */
export interface Readiness {
  readonly ready: boolean;
  readonly detail: string;
}

export const LIVENESS_PATH = '/healthz';
export const READINESS_PATH = '/readyz';

/**
 * Kubernetes' and load balancers' probes, beside the metrics: `/healthz` is 200 while the process answers
 * (alive); `/readyz` is 200 while its listeners serve, 503 while they do not (shutting down, no worker up),
 * so that a balancer stops sending new clients before the drain. Answers and returns true for those paths.
 */
export function answerHealth(pathname: string, res: ServerResponse, readiness: () => Readiness): boolean {
  if (pathname === LIVENESS_PATH) {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-store' }).end('alive\n');
    return true;
  }
  if (pathname === READINESS_PATH) {
    const { ready, detail } = readiness();
    res.writeHead(ready ? 200 : 503, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-store' }).end(`${ready ? 'ready' : 'not ready'}: ${detail}\n`);
    return true;
  }
  return false;
}

/** The path of a request, without its query. */
export function pathnameOf(req: IncomingMessage): string {
  return (req.url ?? '/').split('?')[0]!;
}
