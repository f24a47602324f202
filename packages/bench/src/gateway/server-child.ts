/**
 * What every server child of the benchmark (bare `ws`, the logger-cost gateways) does besides serving: announce
 * its port over IPC (and on stderr), answer `{cmd:'mem'}` with its resident and heap memory after two full
 * collections (and a second for the freed pages to go: the reading wsgate's own management API gives, at
 * `POST /memory/collect`, packages/core/src/management/process-memory.ts), leave on `{cmd:'exit'}` (so that `--cpu-prof` can write its profile), and never
 * outlive the benchmark that started it.
 */
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';

export interface MemoryReport {
  readonly rss: number;
  readonly heapUsed: number;
  /**
   * The resident part of V8's young generation (new space and its large objects): a reserve V8 sizes by the
   * recent allocation rate, not by what is live, and gives back once the process idles (see idle-memory.ts).
   */
  readonly youngRss: number;
}

export type ParentMessage = { cmd: 'mem' } | { cmd: 'exit' };
export type ChildMessage = ({ cmd: 'ready'; port: number }) | ({ cmd: 'mem' } & MemoryReport) | { cmd: 'failed'; error: string };

/** Time for V8's background unmapper to return freed pages after a full collection. */
const PAGES_RETURNED_MS = 1000;

/**
 * Fills the young generation with garbage, twice over, so that every page of it is resident. V8 reports the
 * young generation's committed size, not its resident part, and after a burst of handshakes only some of
 * its pages may have been touched: subtracting the committed size then takes out memory that was never
 * in RSS (seen: up to ±0.4 KiB per connection, from run to run and from one server to another). Once
 * every page is touched, the two agree and the subtraction is exact.
 */
function touchYoungGeneration(): void {
  const bytes = 2 * youngGenerationResident();
  // A two-element array is about 32 bytes of young generation. Stored where V8 cannot prove it dead, or an
  // optimised loop would allocate nothing.
  for (let i = 0; i < bytes / 32; i++) garbage[i & 1] = [i, i];
  garbage.fill(undefined);
}
const garbage: (number[] | undefined)[] = [undefined, undefined];

/**
 * Resident memory that is the process's own (RssAnon: heap, V8's pages, buffers), without the pages of the
 * node binary and libraries mapped from files. Those come in as code runs for the first time and are shared
 * with every other node process: not memory a connection holds, and they moved a reading by up to ±2 MiB.
 * Falls back to the whole RSS where /proc is not there.
 */
function anonymousResident(): number {
  try {
    const m = /^RssAnon:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // Not Linux.
  }
  return process.memoryUsage().rss;
}

function youngGenerationResident(): number {
  let bytes = 0;
  for (const space of v8.getHeapSpaceStatistics()) {
    if (space.space_name === 'new_space' || space.space_name === 'new_large_object_space') bytes += space.physical_space_size;
  }
  return bytes;
}

export async function serveChild(name: string, start: () => Promise<number>): Promise<void> {
  const send = process.send?.bind(process);
  const gc = globalThis.gc;
  if (!send || !gc) {
    console.error(`${name}: run me from the benchmark (an IPC channel and --expose-gc are needed)`);
    process.exit(2);
  }
  process.on('disconnect', () => process.exit(0));
  process.on('message', (msg: ParentMessage) => {
    if (msg.cmd === 'exit') process.exit(0);
    if (msg.cmd !== 'mem') return;
    touchYoungGeneration();
    gc();
    // Weak callbacks and finalizers run between the two collections.
    setImmediate(() => {
      gc();
      // V8 hands the pages a collection freed back to the system from a background thread, a little later:
      // read at once, RSS still held some of them, by chance (±1.4 KiB per connection from run to run).
      setTimeout(() => {
        const { heapUsed } = process.memoryUsage();
        send({ cmd: 'mem', rss: anonymousResident(), heapUsed, youngRss: youngGenerationResident() } satisfies ChildMessage);
      }, PAGES_RETURNED_MS);
    });
  });
  try {
    const port = await start();
    console.error(`${name}: listening on 127.0.0.1:${port} (pid ${process.pid})`);
    send({ cmd: 'ready', port } satisfies ChildMessage);
  } catch (err) {
    send({ cmd: 'failed', error: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies ChildMessage);
    process.exitCode = 1;
    process.disconnect();
  }
}
