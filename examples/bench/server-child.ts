/**
 * What every server child of the benchmark does besides serving: announce its port over IPC (and on stderr),
 * answer `{cmd:'mem'}` with its resident and heap memory after two full collections, leave on `{cmd:'exit'}`
 * (so that `--cpu-prof` can write its profile), and never outlive the benchmark that started it.
 */

export interface MemoryReport {
  readonly rss: number;
  readonly heapUsed: number;
}

export type ParentMessage = { cmd: 'mem' } | { cmd: 'exit' };
export type ChildMessage = ({ cmd: 'ready'; port: number }) | ({ cmd: 'mem' } & MemoryReport) | { cmd: 'failed'; error: string };

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
    gc();
    // Weak callbacks and finalizers run between the two collections.
    setImmediate(() => {
      gc();
      const { rss, heapUsed } = process.memoryUsage();
      send({ cmd: 'mem', rss, heapUsed } satisfies ChildMessage);
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
