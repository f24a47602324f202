/** Resident memory of a set of processes, from /proc (Linux): what an nginx and a node cluster alike can be measured by. */
import { readFileSync } from 'node:fs';

/**
 * Sum of RssAnon over `pids`, in bytes; a pid that is gone counts 0. Anonymous resident memory, as the node
 * servers report their own (../bench/server-child.ts): pages mapped from a binary are shared, and come in as
 * code first runs, not per connection.
 */
export function residentBytes(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const m = /^RssAnon:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      total += m ? Number(m[1]) * 1024 : 0;
    } catch {
      // Exited.
    }
  }
  return total;
}
