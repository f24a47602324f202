/** Child processes of tests and benchmarks (nginx, gateways): run on every core, and a stop that always ends them. */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';

const hasTaskset = spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0;

/**
 * The command that runs `argv` on every core. The load generator pins itself to core 0 and children inherit
 * that (and then counts one core): a proxy started without this would share one core with its load.
 */
export function onAllCores(argv: readonly string[]): string[] {
  return hasTaskset ? ['taskset', '-c', `0-${cpus().length - 1}`, ...argv] : [...argv];
}

/** Asks a child to leave (`ask()`), then kills it if it is still there after `graceMs`. */
export function stopChild(child: ChildProcess, ask: () => void, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    ask();
  });
}
