/** The parent's handle on the node relay (./node-relay.ts): started with its worker count, stopped, always. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS } from '@wsgate/core';
import { onAllCores, stopChild } from '@wsgate/test-kit';
import type { RelayChildMessage, RelayParentMessage } from './node-relay.js';

const live = new Set<ChildProcess>();

export class RelayProcess {
  private constructor(
    readonly port: number,
    /** The primary, then its workers. */
    readonly pids: readonly number[],
    private readonly child: ChildProcess,
  ) {}

  get workerPids(): readonly number[] {
    return this.pids.slice(1);
  }

  /** `workers`: the gateway's own count, so that both run the same number of processes. */
  static start(upstreamPort: number, workers: number): Promise<RelayProcess> {
    const file = fileURLToPath(new URL('./node-relay.js', import.meta.url));
    // Under the V8 flags wsgate runs with (its cluster workers inherit them), on every core as wsgate.
    const [command, ...args] = onAllCores([process.execPath, ...NODE_FLAGS, file]);
    const child = spawn(command!, args, {
      stdio: ['ignore', 2, 2, 'ipc'],
      env: { ...process.env, UPSTREAM_PORT: String(upstreamPort), RELAY_WORKERS: String(workers) },
    });
    live.add(child);
    child.once('exit', () => live.delete(child));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail('no port announced in 20 s'), 20_000);
      const fail = (why: string) => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(new Error(`node relay did not start: ${why}`));
      };
      child.once('exit', (code) => fail(`exited (${code})`));
      child.on('message', (m: RelayChildMessage) => {
        if (m.cmd === 'failed') fail(m.error);
        if (m.cmd !== 'ready') return;
        clearTimeout(timer);
        child.removeAllListeners('exit');
        child.once('exit', () => live.delete(child));
        resolve(new RelayProcess(m.port, m.pids, child));
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
