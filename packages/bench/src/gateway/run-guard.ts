/**
 * How a benchmark run starts and always ends: its knobs checked first (exit code 2 with the message), a
 * watchdog that ends a run that hangs, SIGINT/SIGTERM and process exit that kill every child it started, and a
 * failure that is logged, kills them too, and sets exit code 1. Both benchmarks start through this.
 */

export interface GuardedRun {
  /** Writes one progress line (stderr: stdout carries only the report). */
  readonly log: (message: string) => void;
  /** Throws with a message naming the bad knob. */
  readonly validate: () => void;
  /** False when the run cannot go on (it said why itself). */
  readonly ready?: () => boolean;
  readonly watchdogMs: number;
  /** Ends every child process the run started, at once. */
  readonly killAll: () => void;
  readonly main: () => Promise<void>;
}

export async function runGuarded(run: GuardedRun): Promise<void> {
  try {
    run.validate();
    if (run.ready && !run.ready()) return;
  } catch (err) {
    run.log((err as Error).message);
    process.exitCode = 2;
    return;
  }
  const watchdog = setTimeout(() => {
    run.log(`still running after ${run.watchdogMs / 1000} s: giving up`);
    run.killAll();
    process.exit(1);
  }, run.watchdogMs);
  watchdog.unref();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      run.log(`${signal}: stopping the servers`);
      run.killAll();
      process.exit(130);
    });
  }
  process.once('exit', run.killAll);
  try {
    await run.main();
  } catch (err) {
    run.log(`failed: ${err instanceof Error ? err.message : String(err)}`);
    run.killAll();
    process.exitCode = 1;
  } finally {
    clearTimeout(watchdog);
  }
}
