/**
 * How evenly a multi-process proxy's workers share the load: each worker's part of the workers' CPU over a
 * figure, and the master's (the cluster primary's, nginx's master) CPU beside it — with the workers accepting
 * on the shared socket themselves, the kernel decides who gets a connection, and the master should do nothing.
 */
import { cpuMicrosEach } from './process-stats.js';

export interface WorkerShare {
  /** Each worker's part (0..1) of the CPU all the workers used, in pid order. */
  readonly workers: readonly number[];
  /** The master's CPU as a part (0..1) of all the side's CPU (master + workers). */
  readonly master: number;
}

/** CPU of a master and its workers from now on; `share()` reads the split so far. */
export class CpuSplit {
  private readonly start: { master: number; workers: number[] };

  constructor(
    private readonly masterPid: number,
    private readonly workerPids: readonly number[],
  ) {
    this.start = this.read();
  }

  share(): WorkerShare {
    const now = this.read();
    const workers = now.workers.map((t, i) => t - this.start.workers[i]!);
    const master = now.master - this.start.master;
    const total = workers.reduce((a, b) => a + b, 0);
    return { workers: workers.map((w) => (total > 0 ? w / total : 0)), master: total + master > 0 ? master / (total + master) : 0 };
  }

  private read(): { master: number; workers: number[] } {
    const [master, ...workers] = cpuMicrosEach([this.masterPid, ...this.workerPids]);
    return { master: master!, workers };
  }
}

/** `51 % / 49 % (master 0.2 %)`. */
export function describeShare(share: WorkerShare, master = 'master'): string {
  const pct = (v: number, digits: number) => `${(v * 100).toFixed(digits)} %`;
  return `${share.workers.map((w) => pct(w, 0)).join(' / ')} (${master} ${pct(share.master, 1)})`;
}
