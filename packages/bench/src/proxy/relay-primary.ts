/**
 * The node:cluster primary of the bench's node peers (./node-relay.ts, ./http-proxy-cluster.ts): `RELAY_WORKERS`
 * workers sharing one listener, scheduled as wsgate's own cluster is (packages/core/src/process/cluster.ts:
 * `SCHED_NONE`, the workers accept themselves). It speaks the relay's IPC to the parent (./relay-process.ts):
 * ready with the ports and pids, failed, exit; and never outlives the parent.
 */
import cluster, { type Worker } from 'node:cluster';
import { freePort } from '@wsgate/test-kit';

export type RelayParentMessage = { cmd: 'exit' };
export type RelayChildMessage = { cmd: 'ready'; port: number; tlsPort: number | undefined; pids: number[] } | { cmd: 'failed'; error: string };

export interface RelayPrimaryOptions {
  /** What a worker is, for the error when one exits before it listens: `relay worker`. */
  readonly worker: string;
  /** Whether the workers also listen on a second, TLS, port. */
  readonly tls: boolean;
  /** Each worker's environment, which tells it the port (and TLS port) to listen on. */
  readonly workerEnv: (port: number, tlsPort: number | undefined) => NodeJS.ProcessEnv;
}

export async function runRelayPrimary(options: RelayPrimaryOptions): Promise<void> {
  const send = process.send!.bind(process);
  process.on('disconnect', () => process.exit(0));
  // As wsgate's cluster: without it the primary accepts every connection and hands it over IPC.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  const port = await freePort();
  const tlsPort = options.tls ? await freePort() : undefined;
  const listeners = tlsPort === undefined ? 1 : 2;
  const count = Number(process.env.RELAY_WORKERS);
  const workers: Worker[] = [];
  await Promise.all(
    Array.from({ length: count }, () => {
      const worker = cluster.fork(options.workerEnv(port, tlsPort));
      workers.push(worker);
      return new Promise<void>((resolve, reject) => {
        let listening = 0;
        worker.on('listening', () => ++listening === listeners && resolve());
        worker.once('exit', (code) => reject(new Error(`${options.worker} exited with ${code}`)));
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
  send({ cmd: 'ready', port, tlsPort, pids: [process.pid, ...workers.map((w) => w.process.pid!)] } satisfies RelayChildMessage);
}
