/**
 * Test support: the `wsgate` command in a child process, started as an operator starts it (`node dist/cli.js`,
 * or `npx wsgate` in an installed project), awaited until it listens, and always stopped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { sleep } from './wait.js';

export interface WsgateProcess {
  readonly child: ChildProcess;
  /** Everything it wrote so far. */
  readonly output: { stdout: string; stderr: string };
  /** Its `listening` log lines. */
  readonly listening: Record<string, unknown>[];
  /** The JSON log lines it wrote so far. */
  lines(): Record<string, unknown>[];
  /** SIGTERM to its process group (npx runs it below npm and a shell), then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** Every wsgate started here and not yet exited. */
const live = new Set<ChildProcess>();

/** Ends every wsgate started here at once (a failing or interrupted run, a watchdog): SIGKILL to each process group. */
export function killWsgates(): void {
  for (const child of live) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  live.clear();
}

export interface StartWsgateOptions {
  cwd?: string;
  /** Default: this process's, without NODE_PATH (pnpm's bin shims set it to every workspace package). */
  env?: NodeJS.ProcessEnv;
  /** How many `listening` lines to wait for; default 1. */
  listeners?: number;
  /** Default 15 s: a TypeScript script is compiled at start. */
  timeoutMs?: number;
  /** Also wait for its `management` line: the management API starts after the listeners. */
  management?: boolean;
}

/**
 * Runs `command args…` in a process group of its own and resolves once it has logged `listening` for each
 * listener; rejects with its output if it exits or the time runs out first (and kills it).
 */
export async function startWsgate(command: string, args: readonly string[], options: StartWsgateOptions = {}): Promise<WsgateProcess> {
  const { NODE_PATH: _, ...operatorEnv } = process.env;
  const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? operatorEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  live.add(child);
  child.once('exit', () => live.delete(child));
  const output = { stdout: '', stderr: '' };
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output.stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output.stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = () =>
    output.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, name);
    } catch {
      // The group is gone already.
    }
  };
  const stop = async (graceMs = 5000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    signal('SIGTERM');
    const timer = setTimeout(() => signal('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
    signal('SIGKILL'); // whatever the group left behind
  };

  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  for (;;) {
    const all = lines();
    const listening = all.filter((l) => l.msg === 'listening');
    const managed = options.management !== true || all.some((l) => l.msg === 'management');
    if (listening.length >= (options.listeners ?? 1) && managed) return { child, output, listening, lines, stop };
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      await stop(0);
      throw new Error(`${command} ${args.join(' ')} did not start: ${JSON.stringify(output)}`);
    }
    await sleep(25);
  }
}

/** What a command that runs to its end printed, and its exit code. */
export interface CommandResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Runs a short-lived command (`node dist/cli.js ctl …`, `… check`) to its end. */
export async function runToEnd(command: string, args: readonly string[]): Promise<CommandResult> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk));
  const [code] = (await once(child, 'exit')) as [number];
  return { code, out, err };
}
