/**
 * A server's memory, all its processes together, from /proc (Linux): the proportional set size of anonymous
 * and shared-anonymous pages (`Pss_Anon + Pss_Shmem` of smaps_rollup). Kamailio keeps its connections, its
 * transactions and its location table in shared memory that all its processes map, which RssAnon does not
 * count and a sum of Rss would count once per process; Pss counts each page once. Pages mapped from files
 * (the binaries, the libraries) are left out on both sides.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** `pid` and all its descendants. */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length && out.length < 1024; i++) {
    const p = out[i]!;
    try {
      for (const tid of readdirSync(`/proc/${p}/task`)) {
        const children = readFileSync(`/proc/${p}/task/${tid}/children`, 'utf8').trim();
        if (children) out.push(...children.split(/\s+/).map(Number));
      }
    } catch {
      // Gone.
    }
  }
  return out;
}

/** Pss_Anon + Pss_Shmem summed over `pids`, in bytes; a process that is gone counts 0. */
export function serverMemoryBytes(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    let rollup: string;
    try {
      rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    } catch {
      continue;
    }
    for (const field of ['Pss_Anon', 'Pss_Shmem']) {
      const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(rollup);
      if (!m) throw new Error(`/proc/${pid}/smaps_rollup has no ${field} line (Linux 5.x or later is needed)`);
      total += Number(m[1]) * 1024;
    }
  }
  return total;
}
