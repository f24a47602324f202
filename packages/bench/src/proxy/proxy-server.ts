/**
 * The benchmark's wsgate, proxying everything to the upstream whose port is in `UPSTREAM_PORT`: a node:cluster
 * primary with `PROXY_WORKERS` workers (default 2) sharing one listener, each a Gateway whose only route is
 * `req.proxy(upstream(...))` — raw tunnels, nothing terminated. The primary tells the parent its port and pids
 * over IPC, runs a full collection in every worker on `{cmd:'gc'}` (so that memory figures are not garbage),
 * and never outlives the parent. With `PROXY_KIND=node-relay`, the workers are plain TCP relays instead
 * (`nodeRelayWorker`).
 */
import cluster, { type Worker } from 'node:cluster';
import net from 'node:net';
import { defineRoutes, Gateway, resolveConfig } from '@wsgate/core';
import { upstream } from '@wsgate/routes';
import { freePort } from '@wsgate/test-kit';

export type ProxyParentMessage = { cmd: 'gc' } | { cmd: 'exit' };
export type ProxyChildMessage = { cmd: 'ready'; port: number; pids: number[] } | { cmd: 'gc-done' } | { cmd: 'failed'; error: string };

const env = process.env;


async function primary(): Promise<void> {
  const send = process.send!.bind(process);
  process.on('disconnect', () => process.exit(0));
  // Workers accept on the shared socket themselves: the primary would otherwise accept and hand over every
  // connection, a third process on the handshake path.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  const port = await freePort();
  const count = Number(env.PROXY_WORKERS ?? 2);
  const workers: Worker[] = [];
  await Promise.all(
    Array.from({ length: count }, () => {
      const worker = cluster.fork({ PROXY_PORT: String(port) });
      workers.push(worker);
      return new Promise<void>((resolve, reject) => {
        worker.once('message', (m: { cmd: string }) => (m.cmd === 'listening' ? resolve() : reject(new Error(String(m)))));
        worker.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
      });
    }),
  ).catch((err: Error) => {
    send({ cmd: 'failed', error: err.message } satisfies ProxyChildMessage);
    process.exit(1);
  });
  process.on('message', async (m: ProxyParentMessage) => {
    if (m.cmd === 'exit') {
      // Workers leave by themselves (a CPU profile gets written), or are killed after 2 s.
      setTimeout(() => process.exit(0), 2000).unref();
      await Promise.all(workers.map((w) => new Promise((r) => (w.once('exit', r), w.send('exit')))));
      process.exit(0);
    }
    if (m.cmd === 'gc') {
      await Promise.all(workers.map((w) => new Promise((r) => (w.once('message', r), w.send('gc')))));
      send({ cmd: 'gc-done' } satisfies ProxyChildMessage);
    }
  });
  send({ cmd: 'ready', port, pids: [process.pid, ...workers.map((w) => w.process.pid!)] } satisfies ProxyChildMessage);
}

/** wsgate: a Gateway whose only route proxies to the upstream. */
async function wsgateWorker(): Promise<void> {
  const pool = upstream(`ws://127.0.0.1:${env.UPSTREAM_PORT}`);
  const gateway = new Gateway(
    resolveConfig(
      {
        listeners: [{ host: '127.0.0.1', port: Number(env.PROXY_PORT) }],
        limits: { maxConnections: 30_000 },
        keepalive: { mechanism: 'none' },
        log: { level: 'warn' },
      },
      process.cwd(),
    ),
  );
  gateway.use(defineRoutes({ 'http:request': (req) => req.proxy(pool), 'routes:close': (reason) => pool.retire(reason) }, 'bench-proxy'));
  await gateway.listen();
}

/**
 * The least any node proxy has to do, for reference: a TCP relay (`pipe()` both ways) opened at accept, with
 * no HTTP parsing, no checks, no headers added. What node's sockets cost alone, whoever's code runs on them.
 */
async function nodeRelayWorker(): Promise<void> {
  const server = net.createServer({ noDelay: true, allowHalfOpen: true }, (client) => {
    const up = net.connect({ host: '127.0.0.1', port: Number(env.UPSTREAM_PORT), noDelay: true, allowHalfOpen: true });
    client.pipe(up);
    up.pipe(client);
    client.on('error', () => up.destroy());
    up.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(env.PROXY_PORT), '127.0.0.1', resolve);
  });
}

async function worker(): Promise<void> {
  await (env.PROXY_KIND === 'node-relay' ? nodeRelayWorker() : wsgateWorker());
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: string) => {
    if (m === 'exit') process.exit(0);
    if (m !== 'gc') return;
    globalThis.gc?.();
    setImmediate(() => {
      globalThis.gc?.();
      process.send!('gc-done');
    });
  });
  process.send!({ cmd: 'listening' });
}

if (cluster.isPrimary) await primary();
else await worker();
