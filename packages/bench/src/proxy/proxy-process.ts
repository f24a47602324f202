/** The parent's handle on a proxy child (a cluster of wsgate or node-relay workers): started, asked to collect garbage, stopped, always. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS } from '@wsgate/core';
import { onAllCores, stopChild } from '@wsgate/test-kit';
import type { ProxyChildMessage, ProxyParentMessage } from './proxy-server.js';

const live = new Set<ChildProcess>();

export class ProxyProcess {
  private constructor(
    readonly port: number,
    readonly pids: readonly number[],
    private readonly child: ChildProcess,
  ) {}

  static start(upstreamPort: number, workers: number, nodeFlags: readonly string[] = [], kind: 'wsgate' | 'node-relay' = 'wsgate'): Promise<ProxyProcess> {
    const file = fileURLToPath(new URL('./proxy-server.js', import.meta.url));
    // As wsgate's launchers start it (its cluster workers inherit the flags).
    const [command, ...args] = onAllCores([process.execPath, '--expose-gc', ...NODE_FLAGS, ...nodeFlags, file]);
    const child = spawn(command!, args, {
      stdio: ['ignore', 2, 2, 'ipc'],
      env: { ...process.env, UPSTREAM_PORT: String(upstreamPort), PROXY_WORKERS: String(workers), PROXY_KIND: kind },
    });
    live.add(child);
    child.once('exit', () => live.delete(child));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail('no port announced in 20 s'), 20_000);
      const fail = (why: string) => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(new Error(`${kind} proxy did not start: ${why}`));
      };
      child.once('exit', (code) => fail(`exited (${code})`));
      child.on('message', (m: ProxyChildMessage) => {
        if (m.cmd === 'failed') fail(m.error);
        if (m.cmd !== 'ready') return;
        clearTimeout(timer);
        child.removeAllListeners('exit');
        child.once('exit', () => live.delete(child));
        resolve(new ProxyProcess(m.port, m.pids, child));
      });
    });
  }

  /** Two full collections in every worker. */
  gc(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, 5000);
      this.child.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      this.child.send({ cmd: 'gc' } satisfies ProxyParentMessage);
    });
  }

  stop(): Promise<void> {
    return stopChild(this.child, () => this.child.send({ cmd: 'exit' } satisfies ProxyParentMessage));
  }
}

/** Ends every proxy child at once (errors, signals, the watchdog). */
export function killProxies(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}
