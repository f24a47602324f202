/**
 * The V8 and allocator settings wsgate's launchers start node with: the `wsgate` command, `npm start`, and
 * cluster workers.
 * An embedding application chooses its own; docs/architecture.md ("Heap at rest, and the V8 flags") says why these.
 *
 * `--initial-old-space-size=64`: a gateway's heap is small (a few MB) while large messages move hundreds of MB
 * a second through off-heap buffers. With V8's default initial old-generation budget, such a heap sits near
 * its collection limit and V8 runs one full mark-compact after another (measured with `--trace-gc` on the
 * 64 KiB echo benchmark: about 25 a second instead of 2, and about 40% more CPU per byte echoed). A 64 MB initial
 * budget lets young collections do the work; memory is committed only as the heap really grows.
 *
 * `--no-parallel-scavenge`: a young collection runs on the main thread alone. What survives one in a gateway is
 * little (the messages in flight: 4–16 KB of 6–7 MB), so helper threads gain nothing, and the main thread waits
 * for them to be scheduled: with `workers: auto` every core already runs a worker. Measured with
 * `--trace-gc-nvp` on the proxy bench's latency load (2 workers, 2 cores): median pause 1.7–2.5 ms → 0.5–1.2 ms,
 * its parallel phase 0.8–1.4 ms → 0.11–0.14 ms; p99 round trip lower in 6 of 7 paired runs (median −12%).
 */
export const NODE_FLAGS: readonly string[] = ['--initial-old-space-size=64', '--no-parallel-scavenge'];

/** `execArgv` with the flags added that it does not already set (a flag given by the operator wins). */
export function withNodeFlags(execArgv: readonly string[]): string[] {
  // `--foo_bar=1` and `--foo-bar` are one flag, as are `--no-foo` and `--foo` (V8 takes the last one given).
  const named = (flag: string) => flag.split('=')[0]!.replace(/_/g, '-').replace(/^--no-/, '--');
  const given = new Set(execArgv.map(named));
  return [...execArgv, ...NODE_FLAGS.filter((f) => !given.has(named(f)))];
}

/**
 * The C allocator's setting the launchers put in the environment, read by glibc when the process starts.
 *
 * `MALLOC_TRIM_THRESHOLD_=67108864`: node reads each socket's data into buffers it mallocs and frees at once.
 * With glibc's default (a dynamic threshold that starts at 128 KiB) a worker moving 64 KiB messages gives the
 * top of its heap back to the kernel and faults it in again many times a second (strace on the proxy bench's
 * 64 KiB echo: 987 brk calls in 1.5 s against 77 with this setting; kernel time per message 190–570 µs against
 * 73–77 µs), which halved the proxied MB/s. Up to 64 MiB of freed heap now stays with the process instead.
 * Given explicitly (as this is), the threshold is also no longer raised by glibc's heuristics.
 */
export const ALLOCATOR_ENV: Readonly<Record<string, string>> = { MALLOC_TRIM_THRESHOLD_: '67108864' };

/** `env` with ALLOCATOR_ENV added where it sets none of it (a value the operator set wins). */
export function withAllocatorEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const added = Object.fromEntries(Object.entries(ALLOCATOR_ENV).filter(([name]) => env[name] === undefined));
  return { ...env, ...added };
}
