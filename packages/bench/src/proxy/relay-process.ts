/**
 * The parent's handle on a node cluster side: the node relay (./node-relay.ts) or the `http-proxy` package's
 * cluster (./http-proxy-cluster.ts), which speak the same IPC; started with its worker count, stopped, always.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS, withAllocatorEnv } from '@wsgate/core';
import { onAllCores, stopChild } from '@wsgate/test-kit';
import type { RelayChildMessage, RelayParentMessage } from './relay-primary.js';

const live = new Set<ChildProcess>();

/** The children are compiled modules: beside this one once compiled; from the sources (tests), the build's. */
const COMPILED = import.meta.url.endsWith('.ts') ? new URL('../../dist/proxy/relay-process.js', import.meta.url) : new URL(import.meta.url);

export class RelayProcess {
  private constructor(
    readonly port: number,
    /** The TLS 1.3 port, when started with a certificate. */
    readonly tlsPort: number | undefined,
    /** The primary, then its workers. */
    readonly pids: readonly number[],
    private readonly child: ChildProcess,
  ) {}

  get workerPids(): readonly number[] {
    return this.pids.slice(1);
  }

  /** `workers`: the gateway's own count, so that both run the same number of processes; `tls`: PEM files, as wsgate's. */
  static start(upstreamPort: number, workers: number, tls?: { readonly cert: string; readonly key: string }): Promise<RelayProcess> {
    return RelayProcess.spawn('node relay', './node-relay.js', { UPSTREAM_PORT: String(upstreamPort), RELAY_WORKERS: String(workers), ...(tls ? { RELAY_TLS_CERT: tls.cert, RELAY_TLS_KEY: tls.key } : {}) });
  }

  /** The `http-proxy` package in a cluster of `workers`, scheduled as the relay (./http-proxy-cluster.ts). */
  static startHttpProxy(upstreamPort: number, workers: number): Promise<RelayProcess> {
    return RelayProcess.spawn('http-proxy', './http-proxy-cluster.js', { UPSTREAM_PORT: String(upstreamPort), RELAY_WORKERS: String(workers) });
  }

  private static spawn(name: string, entry: string, sideEnv: Record<string, string>): Promise<RelayProcess> {
    const file = fileURLToPath(new URL(entry, COMPILED));
    // Under the V8 flags and the allocator setting wsgate runs with (its cluster workers inherit them), on every
    // core as wsgate.
    const [command, ...args] = onAllCores([process.execPath, ...NODE_FLAGS, file]);
    const child = spawn(command!, args, { stdio: ['ignore', 2, 2, 'ipc'], env: { ...withAllocatorEnv(process.env), ...sideEnv } });
    live.add(child);
    child.once('exit', () => live.delete(child));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail('no port announced in 20 s'), 20_000);
      const fail = (why: string) => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(new Error(`${name} did not start: ${why}`));
      };
      child.once('exit', (code) => fail(`exited (${code})`));
      child.on('message', (m: RelayChildMessage) => {
        if (m.cmd === 'failed') fail(m.error);
        if (m.cmd !== 'ready') return;
        clearTimeout(timer);
        child.removeAllListeners('exit');
        child.once('exit', () => live.delete(child));
        resolve(new RelayProcess(m.port, m.tlsPort, m.pids, child));
      });
    });
  }

  stop(): Promise<void> {
    return stopChild(this.child, () => this.child.send({ cmd: 'exit' } satisfies RelayParentMessage));
  }
}

/** Ends every relay at once (errors, signals, the watchdog). */
export function killRelays(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}
