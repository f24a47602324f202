/**
 * The parent's handle on a server child: spawned with `--expose-gc` (pinned to its own core when `taskset` is
 * there), asked for its memory over IPC, and always killed at the end — every child started is tracked so that
 * an error or a signal in the parent still ends it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS, withAllocatorEnv } from '@wsgate/core';
import type { ChildMessage, MemoryReport } from './server-child.js';

const live = new Set<ChildProcess>();

/** Entries are compiled modules beside this one once compiled; from the sources (tests), the build's (packages/bench/dist/gateway). */
const COMPILED = import.meta.url.endsWith('.ts') ? new URL('../../dist/gateway/servers.js', import.meta.url) : new URL(import.meta.url);

/** `taskset` pins each side to one core: the server child to core 1, the load generator to core 0. */
export const pinning = availableParallelism() >= 2 && spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0;

/** Pins this process (all its threads) to `cpu`; a no-op without taskset. */
export function pinSelf(cpu: number): void {
  if (pinning) spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(process.pid)], { stdio: 'ignore' });
}

export interface ServerOptions {
  /** Shown in messages. */
  readonly name: string;
  /** The child's entry, a module beside this one once compiled. */
  readonly entry: string;
  /** Extra node flags (`--cpu-prof`, …). */
  readonly nodeFlags?: readonly string[];
  readonly startTimeoutMs?: number;
}

/** What a benchmark measures of a server, a child of this file's or wsgate started by its CLI (./sample-gateway.ts). */
export interface MeasuredServer {
  readonly name: string;
  readonly port: number;
  /** All its processes, for their CPU time (/proc). */
  readonly pids: readonly number[];
  /** Resident and heap memory after full collections (server-child.ts; wsgate: its management API). */
  mem(): Promise<MemoryReport>;
  stop(): Promise<void>;
}

export class ServerProcess implements MeasuredServer {
  private stopping = false;

  private constructor(
    readonly name: string,
    readonly port: number,
    private readonly child: ChildProcess,
  ) {}

  static start(options: ServerOptions): Promise<ServerProcess> {
    const file = fileURLToPath(new URL(options.entry, COMPILED));
    // Every server runs under the V8 and allocator settings wsgate's launchers use: the comparison is of code,
    // not of settings.
    const node = [process.execPath, '--expose-gc', ...NODE_FLAGS, ...(options.nodeFlags ?? []), file];
    const [command, ...args] = pinning ? ['taskset', '-c', '1', ...node] : node;
    // The children's own output goes to our stderr: stdout carries only the report.
    const child = spawn(command!, args, { stdio: ['ignore', 2, 2, 'ipc'], env: withAllocatorEnv(process.env) });
    live.add(child);
    child.once('exit', () => live.delete(child));
    return new Promise((resolve, reject) => {
      const fail = (why: string) => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(new Error(`${options.name} server did not start: ${why}`));
      };
      const timer = setTimeout(() => fail('no port announced in time'), options.startTimeoutMs ?? 20_000);
      child.once('error', (err) => fail(err.message));
      child.once('exit', (code, signal) => fail(`exited (${signal ?? code})`));
      child.on('message', function ready(msg: ChildMessage) {
        if (msg.cmd === 'failed') fail(msg.error);
        if (msg.cmd !== 'ready') return;
        clearTimeout(timer);
        child.removeListener('message', ready);
        child.removeAllListeners('exit');
        const server = new ServerProcess(options.name, msg.port, child);
        child.once('exit', (code, signal) => {
          live.delete(child);
          if (!server.stopping) process.stderr.write(`[bench] ${options.name} server exited unexpectedly (${signal ?? `code ${code}`})\n`);
        });
        resolve(server);
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  get pids(): number[] {
    return [this.pid];
  }

  /** Resident and heap memory after two full collections in the child. */
  mem(timeoutMs = 10_000): Promise<MemoryReport> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`${this.name}: no memory report in ${timeoutMs} ms`)), timeoutMs);
      const onMessage = (msg: ChildMessage) => {
        if (msg.cmd === 'mem') done(undefined, { rss: msg.rss, heapUsed: msg.heapUsed, youngRss: msg.youngRss });
      };
      const onExit = () => done(new Error(`${this.name}: exited while measuring memory`));
      const done = (err: Error | undefined, report?: MemoryReport) => {
        clearTimeout(timer);
        this.child.removeListener('message', onMessage);
        this.child.removeListener('exit', onExit);
        if (err) reject(err);
        else resolve(report!);
      };
      this.child.on('message', onMessage);
      this.child.once('exit', onExit);
      this.child.send({ cmd: 'mem' });
    });
  }

  /** Asks the child to leave (a CPU profile gets written), then kills it if it lingers. */
  stop(timeoutMs = 5000): Promise<void> {
    this.stopping = true;
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
      this.child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      if (this.child.connected) this.child.send({ cmd: 'exit' });
      else this.child.kill('SIGKILL');
    });
  }
}

/** Kills every child still running, at once (errors, signals, the watchdog). */
export function killAllServers(): void {
  for (const child of live) {
    child.removeAllListeners('exit');
    child.kill('SIGKILL');
  }
  live.clear();
}
