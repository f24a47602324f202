/**
 * The terminate-mode benchmark's figures, both servers side by side: wsgate as users start it
 * (`wsgate --config`, ./sample-gateway.ts) and a bare `ws` server (./bare-server.ts), both pinned to the servers'
 * core when there is one; the handshake figure has the node floor beside them (./handshake-floor.ts: the least any
 * node server does for a correct handshake), and Kamailio answers the SIP OPTIONS figure beside wsgate. ./run.ts
 * runs it with the benchmark's sizes; its test with tiny ones.
 */
import { fmt } from './format.js';
import { upgradeRequest } from './frames.js';
import type { InterleaveOptions } from './interleave.js';
import { nextSourceAddress } from './loopback.js';
import { measure as measureSides } from './measure.js';
import { EchoLoad } from './phases/echo-load.js';
import { HandshakeLoad } from './phases/handshakes.js';
import { measureIdleMemory, median, type IdleMemoryResult } from './phases/idle-memory.js';
import { LatencyLoad } from './phases/latency.js';
import type { SliceCount, SlicedLoad } from './phases/slice.js';
import type { Figure, Report } from './report.js';
import { SampleGateway } from './sample-gateway.js';
import { pinning, ServerProcess, type MeasuredServer } from './servers.js';
import type { Target } from './ws-client.js';
import { LARGE_BINARY, SIP_OPTIONS, SMALL_TEXT, payloadLength } from './workloads.js';
import { startOptionsKamailio } from '../sip/options-peer.js';

export type Side = 'gateway' | 'bare';
type PerSide<T> = Partial<Record<Side, T>>;
export const NAMES: Record<Side, string> = { gateway: 'wsgate', bare: 'bare ws' };
/** The handshake figure's peer that is neither side: how far any node server could go (./handshake-floor.ts). */
const FLOOR_NAME = 'node floor';

export interface GatewayBenchSettings {
  /** The servers measured, in the order their slices alternate. */
  readonly sides: readonly Side[];
  readonly slicing: InterleaveOptions;
  /** Clients of the handshake figure, connections of the others (50). */
  readonly connections: number;
  readonly idleConnections: number;
  /** Idle-memory readings per side, after one that is not counted. */
  readonly memoryRounds: number;
  /** Connections opened and closed before each idle-memory reading (300). */
  readonly warmupConnections: number;
  /** A folder for the gateway's `--cpu-prof` profile. */
  readonly profileDir?: string;
  readonly log: (message: string) => void;
  /** Told the pids of every server and peer started (the machine-load watch). */
  readonly onPids?: (pids: readonly number[]) => void;
}

export interface GatewayBenchResult {
  readonly figures: readonly Figure[];
  readonly sip: Report['sip'];
  /** Handshake cycles that failed, over every load: a clean run has none. */
  readonly handshakeErrors: number;
  /** Echoes still owed when an echo load stopped (drained): every message sent comes back on a clean run. */
  readonly undelivered: number;
}

export async function runGatewayBench(s: GatewayBenchSettings): Promise<GatewayBenchResult> {
  const { sides, log, connections: n } = s;
  let handshakeErrors = 0;
  let undelivered = 0;
  const measure = <L extends SlicedLoad>(
    title: string,
    open: (side: Side) => L | Promise<L>,
    value: (total: SliceCount, load: L, side: Side) => number,
    show: (v: number) => string,
  ): Promise<PerSide<number>> => measureSides({ order: sides, names: NAMES, slicing: s.slicing, log }, title, open, value, show);

  const running = new Set<MeasuredServer>();
  const start = async (): Promise<PerSide<MeasuredServer>> => {
    const started = await Promise.all(
      sides.map((side): Promise<MeasuredServer> =>
        side === 'gateway'
          ? SampleGateway.start({
              name: NAMES[side],
              ...(pinning ? { cpus: '1' } : {}),
              ...(s.profileDir ? { nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${s.profileDir}`] } : {}),
            })
          : ServerProcess.start({ name: NAMES[side], entry: './bare-server.js' }),
      ),
    );
    for (const server of started) running.add(server);
    s.onPids?.(started.flatMap((server) => server.pids));
    return Object.fromEntries(sides.map((side, i) => [side, started[i]]));
  };
  const stop = async (servers: PerSide<MeasuredServer>) => {
    await Promise.all(Object.values(servers).map((server) => server.stop()));
    for (const server of Object.values(servers)) running.delete(server);
  };

  try {
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
    log(`resident memory per idle connection (${fmt(s.idleConnections)} connections, median of ${s.memoryRounds})`);
    const readings: PerSide<IdleMemoryResult[]> = {};
    for (let round = 0; round <= s.memoryRounds; round++) {
      for (const side of sides) {
        const r = await measureIdleMemory(server(side), target(side, 'echo'), nextSourceAddress(), {
          connections: s.idleConnections,
          concurrency: 100,
          warmupConnections: s.warmupConnections,
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

    // The floor takes the handshake figure's slices with the sides, on the servers' core, then leaves.
    const floor = await ServerProcess.start({ name: FLOOR_NAME, entry: './handshake-floor.js' });
    running.add(floor);
    s.onPids?.([...Object.values(servers).flatMap((server) => server.pids), ...floor.pids]);
    let handshakeAll: Partial<Record<Side | 'floor', number>>;
    try {
      handshakeAll = await measureSides(
        { order: [...sides, 'floor'], names: { ...NAMES, floor: FLOOR_NAME }, slicing: s.slicing, log },
        `handshakes/s, ${n} clients`,
        (side) => {
          const to: Target = side === 'floor' ? { port: floor.port, request: upgradeRequest(floor.port, '/', 'echo') } : target(side, 'echo');
          return new HandshakeLoad(to, nextSourceAddress(), { clients: n, maxCount: 1_000_000, busyPoll: pinning });
        },
        (t, load) => {
          handshakeErrors += load.errors;
          if (load.errors > 0) log(`  ${load.errors} failed handshake cycles, first: ${load.firstError}`);
          return t.count / t.seconds;
        },
        (v) => fmt(v),
      );
    } finally {
      await floor.stop();
      running.delete(floor);
      s.onPids?.(Object.values(servers).flatMap((server) => server.pids));
    }
    const { floor: handshakeFloor, ...handshakes } = handshakeAll;

    const echo = (frame: Buffer, inFlight: number) => (side: Side) =>
      EchoLoad.open(target(side, 'echo'), nextSourceAddress(), { connections: n, inFlight, frame, maxMessages: 10_000_000 });
    const echoed = (t: SliceCount, load: EchoLoad, expected: number) => {
      undelivered += load.undelivered;
      return checkedEcho(t, expected);
    };

    const small = await measure(
      `messages/s, 64 B text, ${n} connections × 16 in flight`,
      echo(SMALL_TEXT, 16),
      (t, load) => echoed(t, load, payloadLength(SMALL_TEXT)).count / t.seconds,
      (v) => fmt(v),
    );

    const large = await measure(
      `MB/s, 64 KiB binary, ${n} connections × 4 in flight`,
      echo(LARGE_BINARY, 4),
      (t, load) => echoed(t, load, payloadLength(LARGE_BINARY)).bytes / t.seconds / 1e6,
      (v) => fmt(v, 1),
    );

    const latency: PerSide<{ p50: number; p99: number }> = {};
    await measure(
      `round-trip latency, 64 B text, ${n} connections × 1 in flight`,
      (side) => LatencyLoad.open(target(side, 'echo'), nextSourceAddress(), { connections: n, frame: SMALL_TEXT, maxSamples: 2_000_000 }),
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
    s.onPids?.([...Object.values(servers).flatMap((server) => server.pids), ...kamailio.pids()]);
    let sipAll: Partial<Record<Side | 'kamailio', number>>;
    try {
      sipAll = await measureSides(
        // the bare ws server has no SIP service to compare: wsgate's registrar and proxy answer against Kamailio's
        { order: [...sides.filter((side) => side !== 'bare'), 'kamailio'], names: { ...NAMES, kamailio: 'Kamailio' }, slicing: s.slicing, log },
        `SIP OPTIONS answered/s, ${n} connections × 16 in flight`,
        (side) =>
          EchoLoad.open(side === 'kamailio' ? kamailioTarget : target(side, 'sip'), nextSourceAddress(), {
            connections: n,
            inFlight: 16,
            frame: SIP_OPTIONS,
            maxMessages: 10_000_000,
          }),
        (t, load) => {
          undelivered += load.undelivered;
          return t.count / t.seconds;
        },
        (v) => fmt(v),
      );
    } finally {
      await kamailio.stop();
    }
    const { kamailio: kamailioOptions, ...sip } = sipAll;

    const figures: Figure[] = [
      { key: 'handshakesPerSecond', label: `handshakes/s (${n} clients)`, ...handshakes, floor: handshakeFloor, better: 'higher', targetRatio: 0.9, decimals: 0 },
      { key: 'smallMessagesPerSecond', label: `messages/s, 64 B text (${n} conns × 16 in flight)`, ...small, better: 'higher', targetRatio: 0.9, decimals: 0 },
      { key: 'largeMegabytesPerSecond', label: `MB/s echoed, 64 KiB binary (${n} conns × 4 in flight)`, ...large, better: 'higher', targetRatio: 0.9, decimals: 1 },
      { key: 'latencyP50Micros', label: `p50 round trip, µs (${n} conns × 1 in flight)`, gateway: latency.gateway?.p50, bare: latency.bare?.p50, better: 'lower', targetRatio: 1.1, decimals: 0 },
      { key: 'latencyP99Micros', label: 'p99 round trip, µs', gateway: latency.gateway?.p99, bare: latency.bare?.p99, better: 'lower', targetRatio: 1.1, decimals: 0 },
      { key: 'idleConnectionKiB', label: `RSS per idle connection, KiB (${fmt(s.idleConnections)} conns)`, ...memory, better: 'lower', targetRatio: 1.1, decimals: 2 },
      // RSS deltas hide what fits in pages a process had already committed; the heap shows what each connection keeps.
      { key: 'idleConnectionHeapKiB', label: 'JS heap per idle connection, KiB', ...heap, better: 'lower', decimals: 2 },
    ];
    return { figures, sip: { ...sip, ...(kamailioOptions !== undefined ? { kamailio: kamailioOptions } : {}) }, handshakeErrors, undelivered };
  } finally {
    await Promise.all([...running].map((server) => server.stop()));
  }
}

/** An echo server must send back what it got (frames cut by the slices' edges make the average drift a little). */
function checkedEcho(total: SliceCount, expected: number): SliceCount {
  const perMessage = total.bytes / total.count;
  if (Math.abs(perMessage - expected) > expected * 0.02) {
    throw new Error(`echoed ${fmt(perMessage, 1)} bytes per message, expected ${expected}`);
  }
  return total;
}
