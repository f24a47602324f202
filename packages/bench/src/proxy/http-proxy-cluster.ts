/**
 * A peer from npm beside the product: the `http-proxy` package, as its README sets it up for WebSockets — each
 * worker an HTTP server whose 'upgrade' goes to `proxy.ws()` and whose requests go to `proxy.web()`, with
 * `createProxyServer({ target: 'ws://…', ws: true })`. Run as the node relay is (./node-relay.ts), under the
 * same cluster primary (./relay-primary.ts: `RELAY_WORKERS` workers sharing one listener, scheduled as wsgate's
 * own cluster), relaying to the upstream on `UPSTREAM_PORT`.
 */
import cluster from 'node:cluster';
import http from 'node:http';
import httpProxy from 'http-proxy';
import { runRelayPrimary } from './relay-primary.js';

const env = process.env;

function worker(): void {
  const proxy = httpProxy.createProxyServer({ target: `ws://127.0.0.1:${Number(env.UPSTREAM_PORT)}`, ws: true });
  // Without a listener http-proxy throws on an upstream error and the worker dies; answer as a proxy would.
  proxy.on('error', (_err, _req, res) => {
    if (res instanceof http.ServerResponse) {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    } else res.destroy();
  });
  const server = http.createServer((req, res) => proxy.web(req, res));
  server.on('upgrade', (req, socket, head) => proxy.ws(req, socket, head));
  server.listen(Number(env.HTTP_PROXY_PORT), '127.0.0.1');
  process.on('disconnect', () => process.exit(0));
}

if (cluster.isPrimary) await runRelayPrimary({ worker: 'http-proxy worker', tls: false, workerEnv: (port) => ({ HTTP_PROXY_PORT: String(port) }) });
else worker();
