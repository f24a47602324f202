import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

/** One process's memory, as `GET /memory` and `POST /memory/collect` show it (bytes). */
export interface ProcessMemory {
  readonly pid: number;
  /** Resident set size, all of it (`process.memoryUsage().rss`). */
  readonly rss: number;
  /**
   * Resident memory that is the process's own (`RssAnon` of /proc/self/status: heap, V8's pages, buffers),
   * without the pages of node's binary and libraries, which every node process shares. `rss` where there is
   * no /proc.
   */
  readonly rssAnon: number;
  readonly heapUsed: number;
  /**
   * V8's young generation (new space and its large objects), committed: a reserve V8 sizes by the recent
   * allocation rate, not by what is live, and gives back once the process idles. After a collection it is all
   * resident, so `rssAnon - youngGeneration` is what the process holds beyond that reserve.
   */
  readonly youngGeneration: number;
  /** Whether a full collection ran just before the reading (`POST /memory/collect`). */
  readonly collected: boolean;
}

/** Time for V8's background unmapper to return the pages a full collection freed. */
const PAGES_RETURNED_MS = 1000;

let gc: (() => void) | undefined;

/**
 * This process's memory; with `collect`, after two full collections (finalizers run between them) and the
 * time for the freed pages to go back to the system. Before collecting, the young generation is filled with
 * garbage twice over so that every page V8 committed for it is resident: V8 tells its committed size, not its
 * resident part, and `youngGeneration` must be what `rssAnon` holds of it (else a reading after a burst of
 * connections, when only some of its pages were touched, counts pages that were never resident).
 */
export async function readProcessMemory(collect: boolean): Promise<ProcessMemory> {
  if (collect) {
    touchYoungGeneration();
    const fullGc = collector();
    fullGc();
    await new Promise((resolve) => setImmediate(resolve));
    fullGc();
    await new Promise((resolve) => setTimeout(resolve, PAGES_RETURNED_MS));
  }
  const { rss, heapUsed } = process.memoryUsage();
  return { pid: process.pid, rss, rssAnon: anonymousResident() ?? rss, heapUsed, youngGeneration: youngGeneration(), collected: collect };
}

/** `gc()` without `--expose-gc` on the command line: the flag set at run time shows it in a new context. */
function collector(): () => void {
  if (gc) return gc;
  if (typeof globalThis.gc === 'function') return (gc = globalThis.gc as () => void);
  v8.setFlagsFromString('--expose-gc');
  return (gc = runInNewContext('gc') as () => void);
}

function touchYoungGeneration(): void {
  const bytes = 2 * youngGeneration();
  // A two-element array is about 32 bytes of young generation; kept where V8 cannot prove it dead.
  for (let i = 0; i < bytes / 32; i++) garbage[i & 1] = [i, i];
  garbage.fill(undefined);
}
const garbage: (number[] | undefined)[] = [undefined, undefined];

function youngGeneration(): number {
  let bytes = 0;
  for (const space of v8.getHeapSpaceStatistics()) {
    if (space.space_name === 'new_space' || space.space_name === 'new_large_object_space') bytes += space.physical_space_size;
  }
  return bytes;
}

function anonymousResident(): number | undefined {
  try {
    const m = /^RssAnon:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined; // not Linux
  }
}
