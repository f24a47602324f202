/**
 * `pnpm bench`: the wsgate sample gateway (terminate mode) against a bare `ws` server, side by side in one run.
 * Each server runs in its own child pinned to one core; this process, on the other core, is the load generator.
 * Debian's Kamailio answers the SIP OPTIONS figure too, on the servers' core. Prints a Markdown table and writes
 * the same as JSON to packages/bench/results/gateway.json.
 *
 * Knobs (environment): BENCH_SECONDS (counted seconds per server and figure, default 3), BENCH_IDLE_CONNECTIONS
 * (default 10000), BENCH_SERVERS (`gateway,bare` by default; one alone for a partial run), BENCH_CPU_PROF (a
 * folder: the gateway child writes a `--cpu-prof` profile there when the run ends).
 */
import { fileURLToPath } from 'node:url';
import { fmt } from './format.js';
import { upgradeRequest } from './frames.js';
import { ensureFileLimit } from './limits.js';
import { nextSourceAddress } from './loopback.js';
import { MachineLoad } from './machine-load.js';
import { EchoLoad } from './phases/echo-load.js';
import { HandshakeLoad } from './phases/handshakes.js';
import { measureIdleMemory, median, type IdleMemoryResult } from './phases/idle-memory.js';
import { LatencyLoad } from './phases/latency.js';
import type { SliceCount, SlicedLoad } from './phases/slice.js';
import { measure as measureSides } from './measure.js';
import { toMarkdown, writeReport, type Figure, type Report } from './report.js';
import { runGuarded } from './run-guard.js';
import { killAllServers, pinSelf, pinning, ServerProcess } from './servers.js';
import type { Target } from './ws-client.js';
import { LARGE_BINARY, SIP_OPTIONS, SMALL_TEXT, payloadLength } from './workloads.js';
import { killKamailios } from '../sip/kamailio.js';
import { startOptionsKamailio } from '../sip/options-peer.js';

type Side = 'gateway' | 'bare';
type PerSide<T> = Partial<Record<Side, T>>;
const NAMES: Record<Side, string> = { gateway: 'wsgate', bare: 'bare ws' };

const env = process.env;
const seconds = Number(env.BENCH_SECONDS ?? 3);
const idleConnections = Number(env.BENCH_IDLE_CONNECTIONS ?? 10_000);
const sides = (env.BENCH_SERVERS ?? 'gateway,bare').split(',').map((s) => s.trim()) as Side[];
const profileDir = env.BENCH_CPU_PROF;

const CONNECTIONS = 50;
/** Idle-memory readings per side, after one that is not counted (see below). */
const MEMORY_ROUNDS = 5;
const SLICE_MS = 250;
const slicing = {
  warmupMs: 1000,
  rampMs: 50,
  sliceMs: SLICE_MS,
  slices: Math.max(1, Math.round((seconds * 1000) / SLICE_MS)),
};
// The default run takes about two minutes; the watchdog ends a run that hangs before four.
const WATCHDOG_MS = 230_000;
const resultFile = fileURLToPath(new URL('../../results/gateway.json', import.meta.url));

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

function validateKnobs(): void {
  if (!(seconds > 0 && seconds <= 10)) throw new Error('BENCH_SECONDS must be in (0, 10]');
  if (!(Number.isInteger(idleConnections) && idleConnections >= 100 && idleConnections <= 15_000)) {
    throw new Error('BENCH_IDLE_CONNECTIONS must be an integer in [100, 15000]');
  }
  if (sides.length === 0 || new Set(sides).size !== sides.length || sides.some((s) => s !== 'gateway' && s !== 'bare')) {
    throw new Error('BENCH_SERVERS must list gateway and/or bare');
  }
}

/** One figure, both servers in interleaved slices (see measure.ts). */
function measure<L extends SlicedLoad>(
  title: string,
  open: (side: Side) => L | Promise<L>,
  value: (total: SliceCount, load: L, side: Side) => number,
  show: (v: number) => string,
): Promise<PerSide<number>> {
  return measureSides({ order: sides, names: NAMES, slicing, log }, title, open, value, show);
}

async function main(machine: MachineLoad): Promise<void> {
  pinSelf(0);
  log(`pinning: ${pinning ? 'load generator on cpu 0, servers on cpu 1' : 'none (no taskset or one core)'}`);

  const start = async (): Promise<PerSide<ServerProcess>> => {
    const started = await Promise.all(
      sides.map((side) =>
        ServerProcess.start({
          name: NAMES[side],
          entry: side === 'gateway' ? './gateway-server.js' : './bare-server.js',
          nodeFlags: side === 'gateway' && profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
        }),
      ),
    );
    serverPids = started.map((s) => s.pid);
    return Object.fromEntries(sides.map((side, i) => [side, started[i]]));
  };
  const stop = (servers: PerSide<ServerProcess>) => Promise.all(Object.values(servers).map((s) => s.stop()));
  let servers = await start();
  const server = (side: Side) => servers[side]!;
  const target = (side: Side, protocol: string): Target => ({
    port: server(side).port,
    request: upgradeRequest(server(side).port, '/', protocol),
  });

  // Memory first, on fresh servers (10,000 connections each). RSS is noisy from one reading to the
  // next (malloc's arenas, V8's page pools): the sides take turns, and each reports its median. The first
  // round is not counted: it grows what a server sizes once for that many connections (V8's spaces, the
  // registry's table), about 0.7 KiB a connection more than any later round on either side.
  log(`resident memory per idle connection (${fmt(idleConnections)} connections, median of ${MEMORY_ROUNDS})`);
  const readings: PerSide<IdleMemoryResult[]> = {};
  for (let round = 0; round <= MEMORY_ROUNDS; round++) {
    for (const side of sides) {
      const r = await measureIdleMemory(server(side), target(side, 'echo'), nextSourceAddress(), {
        connections: idleConnections,
        concurrency: 100,
        warmupConnections: 300,
        openTimeoutMs: 60_000,
        settleMs: 500,
      });
      if (round > 0) (readings[side] ??= []).push(r);
    }
  }
  const memory: PerSide<number> = {};
  const heap: PerSide<number> = {};
  for (const side of sides) {
    const all = readings[side]!;
    memory[side] = median(all.map((r) => r.rssPerConnection)) / 1024;
    heap[side] = median(all.map((r) => r.heapPerConnection)) / 1024;
    const each = all.map((r) => fmt(r.rssPerConnection / 1024, 2)).join(', ');
    const young = `young generation left out: ${all.map((r) => `${fmt(r.youngBefore / 1048576, 1)} → ${fmt(r.youngAfter / 1048576, 1)}`).join(', ')} MiB`;
    log(`  ${NAMES[side]}: ${fmt(memory[side], 2)} KiB RSS (${each}), ${fmt(heap[side], 2)} KiB JS heap per connection; ${young}`);
  }

  // The other figures on fresh servers too: the 30,000 connections opened and closed above leave each heap
  // sized by its own history, which the throughput figures would otherwise carry.
  await stop(servers);
  servers = await start();

  const handshakes = await measure(
    'handshakes/s, 50 clients',
    (side) => new HandshakeLoad(target(side, 'echo'), nextSourceAddress(), { clients: CONNECTIONS, maxCount: 1_000_000, busyPoll: pinning }),
    (t, load) => {
      if (load.errors > 0) log(`  ${load.errors} failed handshake cycles, first: ${load.firstError}`);
      return t.count / t.seconds;
    },
    (v) => fmt(v),
  );

  const echo = (frame: Buffer, inFlight: number) => (side: Side) =>
    EchoLoad.open(target(side, 'echo'), nextSourceAddress(), { connections: CONNECTIONS, inFlight, frame, maxMessages: 10_000_000 });

  const small = await measure(
    'messages/s, 64 B text, 50 connections × 16 in flight',
    echo(SMALL_TEXT, 16),
    (t) => checkedEcho(t, payloadLength(SMALL_TEXT)).count / t.seconds,
    (v) => fmt(v),
  );

  const large = await measure(
    'MB/s, 64 KiB binary, 50 connections × 4 in flight',
    echo(LARGE_BINARY, 4),
    (t) => checkedEcho(t, payloadLength(LARGE_BINARY)).bytes / t.seconds / 1e6,
    (v) => fmt(v, 1),
  );

  const latency: PerSide<{ p50: number; p99: number }> = {};
  await measure(
    'round-trip latency, 64 B text, 50 connections × 1 in flight',
    (side) => LatencyLoad.open(target(side, 'echo'), nextSourceAddress(), { connections: CONNECTIONS, frame: SMALL_TEXT, maxSamples: 2_000_000 }),
    (_t, load, side) => {
      const p = load.percentiles();
      latency[side] = p;
      log(`  ${NAMES[side]}: p99 ${fmt(p.p99)} µs over ${fmt(p.samples)} round trips`);
      return p.p50;
    },
    (v) => `p50 ${fmt(v)} µs`,
  );

  // Kamailio answers the same OPTIONS in the same slices, on the servers' core: the peer this figure is held against.
  const kamailio = await startOptionsKamailio(pinning ? '1' : undefined);
  const kamailioTarget: Target = { port: kamailio.port, request: upgradeRequest(kamailio.port, '/', 'sip') };
  serverPids = [...serverPids, ...kamailio.pids()];
  let sipAll: Partial<Record<Side | 'kamailio', number>>;
  try {
    sipAll = await measureSides(
      // the bare ws server has no SIP service to compare: wsgate's registrar and proxy answer against Kamailio's
      { order: [...sides.filter((s) => s !== 'bare'), 'kamailio'], names: { ...NAMES, kamailio: 'Kamailio' }, slicing, log },
      'SIP OPTIONS answered/s, 50 connections × 16 in flight',
      (side) =>
        EchoLoad.open(side === 'kamailio' ? kamailioTarget : target(side, 'sip'), nextSourceAddress(), {
          connections: CONNECTIONS,
          inFlight: 16,
          frame: SIP_OPTIONS,
          maxMessages: 10_000_000,
        }),
      (t) => t.count / t.seconds,
      (v) => fmt(v),
    );
  } finally {
    await kamailio.stop();
  }
  const { kamailio: kamailioOptions, ...sip } = sipAll;

  const foreign = machine.foreignShare();

  const figures: Figure[] = [
    { key: 'handshakesPerSecond', label: 'handshakes/s (50 clients)', ...handshakes, better: 'higher', targetRatio: 0.9, decimals: 0 },
    { key: 'smallMessagesPerSecond', label: 'messages/s, 64 B text (50 conns × 16 in flight)', ...small, better: 'higher', targetRatio: 0.9, decimals: 0 },
    { key: 'largeMegabytesPerSecond', label: 'MB/s echoed, 64 KiB binary (50 conns × 4 in flight)', ...large, better: 'higher', targetRatio: 0.9, decimals: 1 },
    { key: 'latencyP50Micros', label: 'p50 round trip, µs (50 conns × 1 in flight)', gateway: latency.gateway?.p50, bare: latency.bare?.p50, better: 'lower', targetRatio: 1.1, decimals: 0 },
    { key: 'latencyP99Micros', label: 'p99 round trip, µs', gateway: latency.gateway?.p99, bare: latency.bare?.p99, better: 'lower', targetRatio: 1.1, decimals: 0 },
    { key: 'idleConnectionKiB', label: `RSS per idle connection, KiB (${fmt(idleConnections)} conns)`, ...memory, better: 'lower', targetRatio: 1.1, decimals: 2 },
    // RSS deltas hide what fits in pages a process had already committed; the heap shows what each connection keeps.
    { key: 'idleConnectionHeapKiB', label: 'JS heap per idle connection, KiB', ...heap, better: 'lower', decimals: 2 },
  ];
  const report: Report = {
    date: new Date().toISOString(),
    node: process.version,
    settings: { ...slicing, seconds, connections: CONNECTIONS, idleConnections, pinning, servers: sides },
    figures,
    sip: { ...sip, ...(kamailioOptions !== undefined ? { kamailio: kamailioOptions } : {}) },
    ...(foreign !== undefined ? { foreignCpuShare: foreign } : {}),
  };
  writeReport(report, resultFile);
  process.stdout.write(toMarkdown(report) + '\n');
  log(`written to ${resultFile}`);

  await stop(servers);
}

/** An echo server must send back what it got (frames cut by the slices' edges make the average drift a little). */
function checkedEcho(total: SliceCount, expected: number): SliceCount {
  const perMessage = total.bytes / total.count;
  if (Math.abs(perMessage - expected) > expected * 0.02) {
    throw new Error(`echoed ${fmt(perMessage, 1)} bytes per message, expected ${expected}`);
  }
  return total;
}

let serverPids: number[] = [];

await runGuarded({
  log,
  validate: validateKnobs,
  ready: () => ensureFileLimit(idleConnections + 1000, 'set BENCH_IDLE_CONNECTIONS lower'),
  watchdogMs: WATCHDOG_MS,
  killAll: () => {
    killAllServers();
    killKamailios();
  },
  main: () => {
    const machine = new MachineLoad(() => [process.pid, ...serverPids]);
    machine.begin();
    return main(machine);
  },
});
