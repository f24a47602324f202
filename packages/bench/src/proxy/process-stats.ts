/** Memory, CPU and sockets of a set of processes, from /proc (Linux): what an nginx and a node cluster alike can be measured by. */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** The sum of `read(pid)` over `pids`; a pid that is gone counts 0. */
function sumOver(pids: readonly number[], read: (pid: number) => number): number {
  let total = 0;
  for (const pid of pids) {
    try {
      total += read(pid);
    } catch {
      // Exited.
    }
  }
  return total;
}

/**
 * Sum of RssAnon over `pids`, in bytes. Anonymous resident memory, as the node servers report their own
 * (../gateway/server-child.ts): pages mapped from a binary are shared, and come in as code first runs, not
 * per connection.
 */
export function residentBytes(pids: readonly number[]): number {
  return sumOver(pids, (pid) => {
    const m = /^RssAnon:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  });
}

/** Sum of user + system CPU time over `pids`, in microseconds (clock ticks of 10 ms). */
export function cpuMicros(pids: readonly number[]): number {
  return sumOver(pids, (pid) => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may hold spaces: utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  });
}

/** The child processes of `pid` (a cluster primary's workers, an nginx master's workers), from /proc. */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** The parent of `pid` (a worker's primary), from /proc/PID/stat: the field after the state, past the command's parenthesis. */
export function parentPid(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** `cpuMicros` of each pid on its own, in the order given. */
export function cpuMicrosEach(pids: readonly number[]): number[] {
  return pids.map((pid) => cpuMicros([pid]));
}

/** How many sockets `pid` holds open (its file descriptors that are sockets); 0 for a process that is gone. */
export function socketCount(pid: number): number {
  let count = 0;
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) count++;
      } catch {
        // Closed while we looked.
      }
    }
  } catch {
    // Exited.
  }
  return count;
}
