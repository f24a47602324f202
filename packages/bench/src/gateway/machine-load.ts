/**
 * How much of the machine's CPU went to processes other than the benchmark's while it ran (Linux /proc).
 * A shared machine makes every figure noisy; the interleaved slices keep the ratios fair, and this says how
 * much there was to be fair about.
 */
import { readFileSync } from 'node:fs';

interface Sample {
  readonly busy: number;
  readonly total: number;
  readonly ours: number;
}

function cpuTimes(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  // cpu user nice system idle iowait irq softirq steal …
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1, 9).map(Number) as number[];
  // Interrupt time is charged to no process, and the benchmark's own loopback traffic makes most of it: it is
  // counted as neither ours nor foreign. Steal (other guests of the host) is foreign.
  const busy = user! + nice! + system! + (steal ?? 0);
  return { busy, total: busy + idle! + iowait! + irq! + softirq! };
}

function processTime(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime, stime, cutime, cstime (fields 14 to 17, counted from the pid)
    return Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  } catch {
    return 0;
  }
}

export class MachineLoad {
  private start: Sample | undefined;
  private lastOurs = new Map<number, number>();

  /** `pids()` lists the benchmark's processes (this one and the live server children); call `begin()` first. */
  constructor(private readonly pids: () => readonly number[]) {}

  private sample(): Sample | undefined {
    try {
      const { busy, total } = cpuTimes();
      // A child that exited keeps the time last seen for it.
      for (const pid of this.pids()) this.lastOurs.set(pid, processTime(pid) || this.lastOurs.get(pid) || 0);
      let ours = 0;
      for (const t of this.lastOurs.values()) ours += t;
      return { busy, total, ours };
    } catch {
      return undefined;
    }
  }

  begin(): void {
    this.start = this.sample();
  }

  /** The share (0..1) of all CPU time that other processes used since `begin()`, or undefined off Linux. */
  foreignShare(): number | undefined {
    const end = this.sample();
    if (!this.start || !end || end.total <= this.start.total) return undefined;
    const foreign = end.busy - this.start.busy - (end.ours - this.start.ours);
    return Math.max(0, foreign / (end.total - this.start.total));
  }
}
