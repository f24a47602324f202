/**
 * Chromium in a network namespace of its own that has only the loopback interface, reaching the test's servers
 * on 127.0.0.1 through byte-for-byte bridges (a TCP port inside the namespace → a Unix socket → the same port
 * outside).
 *
 * Why: WebRTC gathers a host candidate on every interface. Dropping all but the 127.0.0.1 candidates from the
 * SDP (browser/recorder.js) is not enough: the answering browser still pairs its own candidate on the
 * machine's other address (192.0.2.x here) with the caller's 127.0.0.1, and media flowed on that pair (seen).
 * In this namespace Chromium has no other address, so media can only flow over loopback, and no test
 * traffic can leave the machine. Needs root (or CAP_SYS_ADMIN) for `unshare --net`, and iproute2's `ip`.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LoopbackChromium {
  /** a wrapper script to give playwright's launch() as `executablePath` */
  readonly executablePath: string;
  close(): Promise<void>;
}

/** How long the wrapper waits for the bridge inside the namespace to listen: 200 × 50 ms. */
const READY_POLLS = 200;

/** The bridge process inside the namespace: each port listens on 127.0.0.1 and pipes to its Unix socket. */
const BRIDGE = `import net from 'node:net';
import { writeFileSync } from 'node:fs';
const [dir, ...ports] = process.argv.slice(2);
let listening = 0;
for (const port of ports) {
  net.createServer((c) => {
    const u = net.connect(dir + '/' + port + '.sock');
    c.on('error', () => u.destroy()); u.on('error', () => c.destroy());
    c.pipe(u).pipe(c);
  }).listen(Number(port), '127.0.0.1', () => { if (++listening === ports.length) writeFileSync(dir + '/ready', ''); });
}
// Chromium is this process's parent (the shell exec'd it): go when it does.
const parent = process.ppid;
setInterval(() => { if (process.ppid !== parent) process.exit(0); }, 200).unref();
setInterval(() => {}, 1 << 30);
`;

/**
 * Prepares a Chromium (`chromium`, default Debian's) that runs in a loopback-only network namespace and
 * reaches `ports` on 127.0.0.1 as if it ran beside them. Checks first that a namespace can be made here.
 */
export async function loopbackChromium(ports: readonly number[], chromium = '/usr/bin/chromium'): Promise<LoopbackChromium> {
  try {
    execFileSync('unshare', ['--net', '--', 'ip', 'link', 'set', 'lo', 'up'], { stdio: 'pipe', timeout: 5000 });
  } catch (e) {
    const why = e instanceof Error && 'stderr' in e ? String((e as { stderr: unknown }).stderr).trim() : String(e);
    throw new Error(`loopbackChromium: cannot make a network namespace (unshare --net, then ip link set lo up): ${why}; run as root with iproute2 installed`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'wsgate-phones-netns-'));
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket) => void (sockets.add(s), s.once('close', () => sockets.delete(s)));
  const servers = await Promise.all(
    ports.map(
      (port) =>
        new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer((c) => {
            const t = net.connect(port, '127.0.0.1');
            track(c);
            track(t);
            c.on('error', () => t.destroy());
            t.on('error', () => c.destroy());
            c.pipe(t).pipe(c);
          });
          server.once('error', reject).listen(join(dir, `${port}.sock`), () => resolve(server));
        }),
    ),
  );
  writeFileSync(join(dir, 'bridge.mjs'), BRIDGE);
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const executablePath = join(dir, 'chromium');
  writeFileSync(
    executablePath,
    `#!/bin/sh
# Chromium in a network namespace with only lo, bridged to the test's ports (examples/phones/loopback-chromium.ts).
exec unshare --net -- /bin/sh -c '
  node=$1 dir=$2 chromium=$3 ports=$4; shift 4
  ip link set lo up || exit 1
  "$node" "$dir/bridge.mjs" "$dir" $ports &
  i=0
  while [ ! -e "$dir/ready" ]; do
    i=$((i + 1)); [ $i -gt ${READY_POLLS} ] && { echo "loopback bridge did not start" >&2; exit 1; }
    sleep 0.05
  done
  exec "$chromium" "$@"' sh ${q(process.execPath)} ${q(dir)} ${q(chromium)} '${ports.join(' ')}' "$@"
`,
  );
  chmodSync(executablePath, 0o755);
  return {
    executablePath,
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
