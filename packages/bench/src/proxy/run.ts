/**
 * The proxy benchmark: one `ws` echo upstream (a bare `ws` server in its own process, pinned to core 1), reached
 * four ways in one run — directly (the limit on this machine), through wsgate (a 2-worker node:cluster proxying
 * raw tunnels), through nginx (`worker_processes auto`, `proxy_pass` with the Upgrade headers) and, for
 * reference, through a 2-worker node TCP relay with no HTTP at all (what node's sockets cost alone, the floor
 * under any node proxy). The load generator (this process, core 0) is the terminate-mode benchmark's: raw
 * sockets, prebuilt masked frames, interleaved slices so that noise falls on all alike. Prints a Markdown
 * table; writes the same as JSON to packages/bench/results/proxy.json.
 *
 * Knobs (environment): BENCH_SECONDS (counted seconds per figure and side, default 3), BENCH_IDLE_CONNECTIONS
 * (default 5000), PROXY_WORKERS (default 2), BENCH_CPU_PROF (a folder for the wsgate workers' CPU profiles).
 */
import { fileURLToPath } from 'node:url';
import { fmt } from '../gateway/format.js';
import { upgradeRequest } from '../gateway/frames.js';
import { ensureFileLimit } from '../gateway/limits.js';
import { nextSourceAddress } from '../gateway/loopback.js';
import { EchoLoad } from '../gateway/phases/echo-load.js';
import { HandshakeLoad } from '../gateway/phases/handshakes.js';
import { LatencyLoad } from '../gateway/phases/latency.js';
import type { SliceCount, SlicedLoad } from '../gateway/phases/slice.js';
import { measure as measureSides } from '../gateway/measure.js';
import { runGuarded } from '../gateway/run-guard.js';
import { killAllServers, pinSelf, pinning, ServerProcess } from '../gateway/servers.js';
import { closeAll, openMany, type Target } from '../gateway/ws-client.js';
import { LARGE_BINARY, SMALL_TEXT, payloadLength } from '../gateway/workloads.js';
import { freePort } from '@wsgate/test-kit';
import { killNginxes, type Nginx } from '@wsgate/test-kit';
import { startNginxProxy } from './nginx-proxy.js';
import { residentBytes } from './process-stats.js';
import { killProxies, ProxyProcess } from './proxy-process.js';
import { toMarkdown, writeJson, type Column, type ProxyFigure } from './table.js';

const env = process.env;
const seconds = Number(env.BENCH_SECONDS ?? 3);
const idleConnections = Number(env.BENCH_IDLE_CONNECTIONS ?? 5000);
const workers = Number(env.PROXY_WORKERS ?? 2);
const SIDES: readonly Column[] = ['direct', 'wsgate', 'nginx', 'nodeRelay'];
const NAMES: Record<Column, string> = { direct: 'direct', wsgate: 'wsgate', nginx: 'nginx', nodeRelay: 'node relay' };
const CONNECTIONS = 50;
const SLICE_MS = 500;
const slicing = { warmupMs: 1000, rampMs: 150, sliceMs: SLICE_MS, slices: Math.max(1, Math.round((seconds * 1000) / SLICE_MS)) };
const WATCHDOG_MS = 175_000;
const resultFile = fileURLToPath(new URL('../../results/proxy.json', import.meta.url));

const log = (m: string) => void process.stderr.write(`[bench-proxy] ${m}\n`);

/** One figure, the three sides in interleaved slices (see ../gateway/measure.ts). */
function measure<L extends SlicedLoad>(
  title: string,
  open: (side: Column) => L | Promise<L>,
  value: (total: SliceCount, load: L, side: Column) => number,
  show: (v: number) => string,
): Promise<Partial<Record<Column, number>>> {
  return measureSides({ order: SIDES, names: NAMES, slicing, log }, title, open, value, show);
}

/** RSS added per idle connection held open through `target`, measured on `pids` (after a collection when `gc`). */
async function idleMemory(target: Target, pids: () => readonly number[], gc: () => Promise<void>): Promise<number> {
  const from = nextSourceAddress();
  await closeAll(await openMany(target, from, 300, 100, 30_000), 5000);
  await new Promise((r) => setTimeout(r, 500));
  await gc();
  const before = residentBytes(pids());
  const sockets = await openMany(target, from, idleConnections, 100, 60_000);
  try {
    for (const s of sockets) s.on('error', () => s.destroy());
    await new Promise((r) => setTimeout(r, 500));
    await gc();
    const open = sockets.filter((s) => !s.destroyed).length;
    if (open < sockets.length) throw new Error(`${sockets.length - open} idle connections were dropped`);
    return (residentBytes(pids()) - before) / idleConnections;
  } finally {
    await closeAll(sockets, 20_000);
  }
}

async function main(): Promise<void> {
  pinSelf(0);
  log(`pinning: ${pinning ? 'load generator on cpu 0, upstream on cpu 1, proxies on both' : 'none'}`);
  const upstream = await ServerProcess.start({ name: 'upstream (bare ws)', entry: './bare-server.js' });
  let proxy: ProxyProcess | undefined;
  let relay: ProxyProcess | undefined;
  let nginx: Nginx | undefined;
  try {
    const profile = env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${env.BENCH_CPU_PROF}`] : [];
    proxy = await ProxyProcess.start(upstream.port, workers, profile);
    relay = await ProxyProcess.start(upstream.port, workers, [], 'node-relay');
    const nginxPort = await freePort();
    nginx = await startNginxProxy(nginxPort, upstream.port);
    const ports: Record<Column, number> = { direct: upstream.port, wsgate: proxy.port, nginx: nginxPort, nodeRelay: relay.port };
    const target = (side: Column): Target => ({ port: ports[side], request: upgradeRequest(ports[side], '/', 'echo') });
    log(`upstream :${upstream.port}, wsgate :${proxy.port} (${workers} workers), nginx :${nginxPort} (worker_processes auto), node relay :${relay.port} (${workers} workers)`);

    log(`resident memory per idle connection (${fmt(idleConnections)} connections)`);
    const memory: Partial<Record<Column, number>> = {};
    const up = await upstream.mem();
    const upAfter = await (async () => {
      const from = nextSourceAddress();
      const sockets = await openMany(target('direct'), from, idleConnections, 100, 60_000);
      try {
        await new Promise((r) => setTimeout(r, 500));
        return await upstream.mem();
      } finally {
        await closeAll(sockets, 20_000);
      }
    })();
    memory.direct = (upAfter.rss - up.rss) / idleConnections / 1024;
    log(`  direct (the upstream itself): ${fmt(memory.direct, 2)} KiB`);
    memory.wsgate = (await idleMemory(target('wsgate'), () => proxy!.pids, () => proxy!.gc())) / 1024;
    log(`  wsgate (primary + workers): ${fmt(memory.wsgate, 2)} KiB`);
    memory.nginx = (await idleMemory(target('nginx'), () => nginx!.pids, async () => {})) / 1024;
    log(`  nginx (master + workers): ${fmt(memory.nginx, 2)} KiB`);

    const handshakes = await measure(
      `handshakes/s, ${CONNECTIONS} clients`,
      (side) => new HandshakeLoad(target(side), nextSourceAddress(), { clients: CONNECTIONS, maxCount: 1_000_000 }),
      (t, load) => {
        if (load.errors > 0) log(`  ${load.errors} failed handshake cycles, first: ${load.firstError}`);
        return t.count / t.seconds;
      },
      (v) => fmt(v),
    );
    const echo = (frame: Buffer, inFlight: number) => (side: Column) =>
      EchoLoad.open(target(side), nextSourceAddress(), { connections: CONNECTIONS, inFlight, frame, maxMessages: 10_000_000 });
    const small = await measure(`messages/s, 64 B, ${CONNECTIONS} connections × 16 in flight`, echo(SMALL_TEXT, 16), (t) => t.count / t.seconds, (v) => fmt(v));
    const large = await measure(
      `MB/s echoed, 64 KiB, ${CONNECTIONS} connections × 4 in flight`,
      echo(LARGE_BINARY, 4),
      (t) => (t.count * payloadLength(LARGE_BINARY)) / t.seconds / 1e6,
      (v) => fmt(v, 1),
    );
    const p99: Partial<Record<Column, number>> = {};
    await measure(
      `round-trip latency, 64 B, ${CONNECTIONS} connections × 1 in flight`,
      (side) => LatencyLoad.open(target(side), nextSourceAddress(), { connections: CONNECTIONS, frame: SMALL_TEXT, maxSamples: 2_000_000 }),
      (_t, load, side) => {
        const p = load.percentiles();
        p99[side] = p.p99;
        return p.p50;
      },
      (v) => `p50 ${fmt(v)} µs`,
    );
    log(`  p99: ${SIDES.map((s) => `${s} ${fmt(p99[s] ?? 0)} µs`).join(', ')}`);

    const figures: ProxyFigure[] = [
      { key: 'handshakesPerSecond', label: `handshakes/s (${CONNECTIONS} clients)`, values: handshakes, better: 'higher', decimals: 0, vsDirect: false },
      { key: 'smallMessagesPerSecond', label: '64 B messages/s (50 conns × 16 in flight)', values: small, better: 'higher', decimals: 0, vsDirect: true },
      { key: 'largeMegabytesPerSecond', label: '64 KiB MB/s echoed (50 conns × 4 in flight)', values: large, better: 'higher', decimals: 1, vsDirect: true },
      { key: 'latencyP99Micros', label: 'p99 round trip, µs (50 conns × 1 in flight)', values: p99, better: 'lower', decimals: 0, vsDirect: false },
      { key: 'idleConnectionKiB', label: `RSS per idle proxied connection, KiB (${fmt(idleConnections)}; direct: the upstream's)`, values: memory, better: 'lower', decimals: 2, vsDirect: false },
    ];
    const report = { date: new Date().toISOString(), node: process.version, settings: { ...slicing, seconds, connections: CONNECTIONS, idleConnections, workers, pinning }, figures };
    writeJson(report, resultFile);
    process.stdout.write(toMarkdown(report) + '\n');
    log(`written to ${resultFile}`);
  } finally {
    await Promise.all([proxy?.stop(), relay?.stop(), nginx?.stop(), upstream.stop()]);
  }
}

function killEverything(): void {
  killAllServers();
  killProxies();
  killNginxes();
}

function validateKnobs(): void {
  if (!(seconds > 0 && seconds <= 10)) throw new Error('BENCH_SECONDS must be in (0, 10]');
  if (!(Number.isInteger(idleConnections) && idleConnections >= 100 && idleConnections <= 8000)) throw new Error('BENCH_IDLE_CONNECTIONS must be an integer in [100, 8000]');
  if (!(Number.isInteger(workers) && workers >= 1 && workers <= 16)) throw new Error('PROXY_WORKERS must be an integer in [1, 16]');
}

await runGuarded({
  log,
  validate: validateKnobs,
  ready: () => ensureFileLimit(idleConnections + 1000, 'set BENCH_IDLE_CONNECTIONS lower'),
  watchdogMs: WATCHDOG_MS,
  killAll: killEverything,
  main,
});
