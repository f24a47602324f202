/** Bounded waits for the phases: every loop of the benchmark ends by time as well as by count. */

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits `ms`, or less once `enough()` says so (checked every `pollMs`). */
export function runUntil(ms: number, enough: () => boolean, pollMs = 50): Promise<void> {
  return new Promise((resolve) => {
    const deadline = performance.now() + ms;
    const tick = () => {
      const left = deadline - performance.now();
      if (left <= 0 || enough()) resolve();
      else setTimeout(tick, Math.min(pollMs, left));
    };
    setTimeout(tick, Math.min(pollMs, ms));
  });
}
