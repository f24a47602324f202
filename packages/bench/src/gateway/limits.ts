/**
 * File descriptors: the idle-memory figure holds `n` sockets in this process and `n` in the server child.
 * When the soft limit is too low but the hard one allows, the benchmark re-runs itself under
 * `bash -c 'ulimit -n …'`; otherwise it stops with a message that says what to do.
 */
import { spawn, spawnSync } from 'node:child_process';

const REEXEC = 'WSGATE_BENCH_REEXEC';

function limit(flag: '-Sn' | '-Hn'): number {
  const out = spawnSync('bash', ['-c', `ulimit ${flag}`], { encoding: 'utf8' }).stdout?.trim() ?? '';
  return out === 'unlimited' ? Infinity : Number.parseInt(out, 10) || 0;
}

/**
 * Returns true when this process may go on; false when it re-ran itself with a higher limit (then the caller
 * does nothing more: the exit code of the re-run becomes ours). Throws when the limit cannot be raised.
 */
export function ensureFileLimit(needed: number, hint: string): boolean {
  const soft = limit('-Sn');
  if (soft >= needed) return true;
  const hard = limit('-Hn');
  if (hard < needed || process.env[REEXEC]) {
    throw new Error(
      `ulimit -n is ${soft} (hard limit ${hard}), but this benchmark needs ${needed} file descriptors per process. ` +
        `Raise it (ulimit -n ${needed}) or ${hint}.`,
    );
  }
  const raised = Number.isFinite(hard) ? Math.min(hard, 65536) : 65536;
  const child = spawn(
    'bash',
    ['-c', `ulimit -n ${raised} && exec "$@"`, 'bash', process.execPath, ...process.execArgv, ...process.argv.slice(1)],
    { stdio: 'inherit', env: { ...process.env, [REEXEC]: '1' } },
  );
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? (signal ? 1 : 0);
  });
  return false;
}
