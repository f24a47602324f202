/**
 * CPU per proxied handshake, side by side: wsgate as users run it (`wsgate --config`, `workers: auto`:
 * ./product-gateway.ts), nginx (`worker_processes auto`) and the node relay (as many workers of `pipe()`, no
 * HTTP: the least any node proxy does), each with the upstream's own CPU; the wsgate primary's part too.
 * The handshake figure of the proxy bench is two cores divided by the CPU of client + upstream + proxy per
 * handshake; this shows the proxy's share.
 *
 * Run: `tsc -b && node packages/bench/dist/proxy/cpu-per-handshake.js` (about 20 s; SLICES, default 6;
 * SIDES, a comma list of wsgate, nginx, nodeRelay, default all; BENCH_CPU_PROF, a folder for the wsgate
 * processes' CPU profiles).
 */
import { upgradeRequest } from '../gateway/frames.js';
import { nextSourceAddress } from '../gateway/loopback.js';
import { HandshakeLoad } from '../gateway/phases/handshakes.js';
import { killAllServers, pinSelf, ServerProcess } from '../gateway/servers.js';
import { freePort, killNginxes, killWsgates } from '@wsgate/test-kit';
import { startNginxProxy } from './nginx-proxy.js';
import { cpuMicros } from './process-stats.js';
import { startProxyGateway } from './product-gateway.js';
import { killRelays, RelayProcess } from './relay-process.js';

type Side = 'wsgate' | 'nginx' | 'nodeRelay';
const ALL_SIDES: readonly Side[] = ['wsgate', 'nginx', 'nodeRelay'];
const chosen = (process.env.SIDES ?? ALL_SIDES.join(',')).split(',') as Side[];
for (const side of chosen) if (!ALL_SIDES.includes(side)) throw new Error(`SIDES: ${side} is not one of ${ALL_SIDES.join(', ')}`);

async function main(): Promise<void> {
  pinSelf(0);
  const upstream = await ServerProcess.start({ name: 'upstream (bare ws)', entry: './bare-server.js' });
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const wsgate = await startProxyGateway({ upstreamPort: upstream.port, workers: 'auto', nodeFlags: profile });
  const relay = await RelayProcess.start(upstream.port, wsgate.workerCount);
  const nginxPort = await freePort();
  const nginx = await startNginxProxy(nginxPort, upstream.port);
  try {
    // Read when used: nginx's master opens the port before it forks its workers.
    const sides: Record<Side, { port: number; pids: () => readonly number[] }> = {
      wsgate: { port: wsgate.port, pids: () => wsgate.pids },
      nginx: { port: nginxPort, pids: () => nginx.pids },
      nodeRelay: { port: relay.port, pids: () => relay.pids },
    };
    const names = ALL_SIDES.filter((side) => chosen.includes(side));
    const loads = Object.fromEntries(
      names.map((side) => {
        const port = sides[side].port;
        return [side, new HandshakeLoad({ port, request: upgradeRequest(port, '/', 'echo') }, nextSourceAddress(), { clients: 50, maxCount: 10_000_000 })];
      }),
    ) as Record<Side, HandshakeLoad>;
    for (const side of names) await loads[side].run(1000, 0);
    const totals = Object.fromEntries(names.map((side) => [side, { handshakes: 0, seconds: 0, proxy: 0, upstream: 0 }])) as Record<Side, { handshakes: number; seconds: number; proxy: number; upstream: number }>;
    let wsgatePrimary = 0;
    for (let slice = 0; slice < Number(process.env.SLICES ?? 6); slice++) {
      for (const side of names) {
        const proxy0 = cpuMicros(sides[side].pids());
        const upstream0 = cpuMicros([upstream.pid]);
        const primary0 = cpuMicros([wsgate.primaryPid]);
        const counted = await loads[side].run(150, 700);
        if (side === 'wsgate') wsgatePrimary += cpuMicros([wsgate.primaryPid]) - primary0;
        const t = totals[side];
        t.proxy += cpuMicros(sides[side].pids()) - proxy0;
        t.upstream += cpuMicros([upstream.pid]) - upstream0;
        t.handshakes += counted.count;
        t.seconds += counted.seconds;
      }
    }
    for (const side of names) {
      const t = totals[side];
      const errors = loads[side].errors > 0 ? `, ${loads[side].errors} failed (${loads[side].firstError})` : '';
      const primary = side === 'wsgate' ? ` (primary ${Math.round(wsgatePrimary / t.handshakes)} µs of it)` : '';
      console.log(
        `${side.padEnd(10)} ${Math.round(t.handshakes / t.seconds)} handshakes/s; CPU per handshake: proxy ${Math.round(t.proxy / t.handshakes)} µs${primary}, upstream ${Math.round(t.upstream / t.handshakes)} µs${errors}`,
      );
    }
  } finally {
    await Promise.all([wsgate.stop(), relay.stop(), nginx.stop(), upstream.stop()]);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  killAllServers();
  killWsgates();
  killRelays();
  killNginxes();
  process.exitCode = 1;
});
