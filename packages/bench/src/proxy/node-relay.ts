/**
 * The floor beside the wsgate figure: the least any node proxy does — a TCP relay (`pipe()` both ways) opened
 * at accept, with no HTTP parsing, no checks, no headers added: what node's sockets cost alone, whoever's code
 * runs on them. A node:cluster primary with `RELAY_WORKERS` workers sharing one listener, scheduled as wsgate's
 * own cluster is (packages/core/src/process/cluster.ts: `SCHED_NONE`, the workers accept themselves), relaying
 * to the upstream on `UPSTREAM_PORT`. The primary tells the parent its port and pids over IPC and never
 * outlives the parent.
 */
import cluster, { type Worker } from 'node:cluster';
import net from 'node:net';
import { freePort } from '@wsgate/test-kit';

export type RelayParentMessage = { cmd: 'exit' };
export type RelayChildMessage = { cmd: 'ready'; port: number; pids: number[] } | { cmd: 'failed'; error: string };

const env = process.env;

async function primary(): Promise<void> {
  const send = process.send!.bind(process);
  process.on('disconnect', () => process.exit(0));
  // As wsgate's cluster: without it the primary accepts every connection and hands it over IPC.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  const port = await freePort();
  const count = Number(env.RELAY_WORKERS);
  const workers: Worker[] = [];
  await Promise.all(
    Array.from({ length: count }, () => {
      const worker = cluster.fork({ RELAY_PORT: String(port) });
      workers.push(worker);
      return new Promise<void>((resolve, reject) => {
        worker.once('listening', () => resolve());
        worker.once('exit', (code) => reject(new Error(`relay worker exited with ${code}`)));
      });
    }),
  ).catch((err: Error) => {
    send({ cmd: 'failed', error: err.message } satisfies RelayChildMessage);
    process.exit(1);
  });
  process.on('message', (m: RelayParentMessage) => {
    if (m.cmd !== 'exit') return;
    for (const w of workers) w.process.kill('SIGKILL');
    process.exit(0);
  });
  send({ cmd: 'ready', port, pids: [process.pid, ...workers.map((w) => w.process.pid!)] } satisfies RelayChildMessage);
}

function worker(): void {
  const server = net.createServer({ noDelay: true, allowHalfOpen: true }, (client) => {
    const up = net.connect({ host: '127.0.0.1', port: Number(env.UPSTREAM_PORT), noDelay: true, allowHalfOpen: true });
    client.pipe(up);
    up.pipe(client);
    client.on('error', () => up.destroy());
    up.on('error', () => client.destroy());
  });
  server.listen(Number(env.RELAY_PORT), '127.0.0.1');
  process.on('disconnect', () => process.exit(0));
}

if (cluster.isPrimary) await primary();
else worker();
