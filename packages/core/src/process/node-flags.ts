/**
 * The V8 settings wsgate's launchers start node with: the `wsgate` command, `npm start`, and cluster workers.
 * An embedding application chooses its own; docs/architecture.md ("Heap at rest, and the V8 flags") says why these.
 *
 * `--initial-old-space-size=64`: a gateway's heap is small (a few MB) while large messages move hundreds of MB
 * a second through off-heap buffers. With V8's default initial old-generation budget, such a heap sits near
 * its collection limit and V8 runs one full mark-compact after another (measured with `--trace-gc` on the
 * 64 KiB echo benchmark: about 25 a second instead of 2, and about 40% more CPU per byte echoed). A 64 MB initial
 * budget lets young collections do the work; memory is committed only as the heap really grows.
 */
export const NODE_FLAGS: readonly string[] = ['--initial-old-space-size=64'];

/** `execArgv` with the flags added that it does not already set (a flag given by the operator wins). */
export function withNodeFlags(execArgv: readonly string[]): string[] {
  const named = (flag: string) => flag.split('=')[0]!.replace(/_/g, '-');
  const given = new Set(execArgv.map(named));
  return [...execArgv, ...NODE_FLAGS.filter((f) => !given.has(named(f)))];
}
