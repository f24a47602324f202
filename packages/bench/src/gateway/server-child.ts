/**
 * What every server child of the benchmark (bare `ws`, the logger-cost gateways) does besides serving: announce
 * its port over IPC (and on stderr), answer `{cmd:'mem'}` with the reading wsgate's own management API gives at
 * `POST /memory/collect` (core's `readProcessMemory`: after two full collections and the time for the freed
 * pages to go), leave on `{cmd:'exit'}` (so that `--cpu-prof` can write its profile), and never outlive the
 * benchmark that started it.
 */
import { readProcessMemory } from '@wsgate/core/process-memory';

export interface MemoryReport {
  /** Resident memory that is the process's own (`RssAnon`), without the shared pages of node's binary. */
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

export async function serveChild(name: string, start: () => Promise<number>): Promise<void> {
  const send = process.send?.bind(process);
  if (!send) {
    console.error(`${name}: run me from the benchmark (an IPC channel is needed)`);
    process.exit(2);
  }
  process.on('disconnect', () => process.exit(0));
  process.on('message', (msg: ParentMessage) => {
    if (msg.cmd === 'exit') process.exit(0);
    if (msg.cmd !== 'mem') return;
    void readProcessMemory(true).then((m) => {
      send({ cmd: 'mem', rss: m.rssAnon, heapUsed: m.heapUsed, youngRss: m.youngGeneration } satisfies ChildMessage);
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
