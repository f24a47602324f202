/**
 * The proxy benchmark's wsgate: the product started by ../cli-gateway.ts, `workers` as configured, with a
 * route script as a user writes it, whose only line is `req.proxy(upstream(...))`.
 */
import { CliGateway } from '../cli-gateway.js';

export interface ProxyGatewayOptions {
  readonly upstreamPort: number;
  /** `workers:` in the config: a count or `auto` (one per core the gateway may run on). */
  readonly workers: number | 'auto';
  /** Node flags before cli.js (`--cpu-prof`, …); the cluster's workers inherit them. */
  readonly nodeFlags?: readonly string[];
  /** A second listener, `wss`, with this certificate (PEM files). */
  readonly tls?: { readonly cert: string; readonly key: string };
}

export function startProxyGateway(options: ProxyGatewayOptions): Promise<CliGateway> {
  const routes = `import { defineRoutes } from '@wsgate/core';
import { upstream } from '@wsgate/routes';

const backend = upstream('ws://127.0.0.1:${options.upstreamPort}');
export default defineRoutes({ 'http:request': (req) => req.proxy(backend) });
`;
  return CliGateway.start({
    name: 'proxy',
    script: './routes.mjs',
    files: { 'routes.mjs': routes },
    workers: options.workers,
    ...(options.tls ? { tls: options.tls } : {}),
    ...(options.nodeFlags ? { nodeFlags: options.nodeFlags } : {}),
    // `log.level: warn` as nginx's access_log is off: no line per connection.
    config: { keepalive: { mechanism: 'none' }, log: { level: 'warn' } },
  });
}
