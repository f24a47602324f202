/** CPU time of a set of processes, from /proc (Linux): what an nginx and a node cluster alike can be measured by. */
import { readFileSync } from 'node:fs';

/** Sum of user + system CPU time over `pids`, in microseconds (clock ticks of 10 ms); a pid that is gone counts 0. */
export function cpuMicros(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command name, which may hold spaces: utime and stime are the 12th and 13th.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(fields[11]) + Number(fields[12])) * 10_000;
    } catch {
      // Exited.
    }
  }
  return total;
}
