/** Small process helpers of the proxy benchmark: a free port to give a child, and a stop that always ends it. */
import { spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { cpus } from 'node:os';

const hasTaskset = spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0;

/**
 * The command that runs `argv` on every core. The load generator pins itself to core 0 and children inherit
 * that (and then counts one core): a proxy started without this would share one core with its load.
 */
export function onAllCores(argv: readonly string[]): string[] {
  return hasTaskset ? ['taskset', '-c', `0-${cpus().length - 1}`, ...argv] : [...argv];
}

/** A port free on 127.0.0.1 now (the kernel's choice), for a child that must be told its port up front. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
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
