/**
 * The server's CPU per handshake, side by side: by default the gateway (the sample route, started by its CLI
 * as the benchmark does: ./sample-gateway.ts), bare `ws` and the node floor (./handshake-floor.ts: the least
 * any node server does for a correct handshake), then each one's CPU against bare `ws`'s; or any server
 * entries given as arguments — two
 * builds of a server, say, to tell whether a change moved the handshake path when the bench's rate ratio moves
 * by more than its usual few percent.
 * Each server is pinned to core 1 and the load to core 0, in interleaved slices, CPU read from /proc.
 *
 * Run: `tsc -b && node packages/bench/dist/gateway/cpu-per-handshake.js [entry.js …]` (about 25 s; SLICES,
 * default 6). An entry is a server-child module (see server-child.ts), e.g. ../logging/no-line-server.js.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cpuMicros } from '../proxy/process-stats.js';
import { upgradeRequest } from './frames.js';
import { nextSourceAddress } from './loopback.js';
import { HandshakeLoad } from './phases/handshakes.js';
import { killWsgates } from '@wsgate/test-kit';
import { SampleGateway } from './sample-gateway.js';
import { killAllServers, pinning, pinSelf, ServerProcess, type MeasuredServer } from './servers.js';

async function main(): Promise<void> {
  pinSelf(0);
  const given = process.argv.slice(2).map((file) => pathToFileURL(resolve(file)).href);
  const entries = given.length > 0 ? given : ['wsgate --config (the sample route)', './bare-server.js', './handshake-floor.js'];
  const servers: MeasuredServer[] = [];
  try {
    if (given.length === 0) servers.push(await SampleGateway.start({ name: 'wsgate', ...(pinning ? { cpus: '1' } : {}) }));
    for (const [i, entry] of entries.entries()) {
      if (servers.length <= i) servers.push(await ServerProcess.start({ name: `server ${i + 1}`, entry }));
    }
    const loads = servers.map(
      (s) => new HandshakeLoad({ port: s.port, request: upgradeRequest(s.port, '/', 'echo') }, nextSourceAddress(), { clients: 50, maxCount: 10_000_000, busyPoll: true }),
    );
    for (const load of loads) await load.run(1000, 0);
    const totals = servers.map(() => ({ handshakes: 0, seconds: 0, cpu: 0 }));
    for (let slice = 0; slice < Number(process.env.SLICES ?? 6); slice++) {
      for (const [i, server] of servers.entries()) {
        const cpu0 = cpuMicros(server.pids);
        const counted = await loads[i]!.run(150, 700);
        totals[i]!.cpu += cpuMicros(server.pids) - cpu0;
        totals[i]!.handshakes += counted.count;
        totals[i]!.seconds += counted.seconds;
      }
    }
    const perHandshake = totals.map((t) => t.cpu / t.handshakes);
    for (const [i, t] of totals.entries()) {
      const errors = loads[i]!.errors > 0 ? `, ${loads[i]!.errors} failed (${loads[i]!.firstError})` : '';
      console.log(`${entries[i]}: ${Math.round(t.handshakes / t.seconds)} handshakes/s; server CPU per handshake ${Math.round(perHandshake[i]!)} µs${errors}`);
    }
    // CPU per handshake turned into how many times bare ws's rate a server-bound server could reach.
    const bare = entries.indexOf('./bare-server.js');
    if (bare !== -1) {
      const ratios = entries.map((entry, i) => `${entry}: ${(perHandshake[bare]! / perHandshake[i]!).toFixed(2)}`).filter((_, i) => i !== bare);
      console.log(`bare ws CPU per handshake / each one's: ${ratios.join('; ')}`);
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

main().catch((err: unknown) => {
  console.error(err);
  killAllServers();
  killWsgates();
  process.exitCode = 1;
});
