/**
 * The proxy benchmark: one `ws` echo upstream (a bare `ws` server in its own process, pinned to core 1), reached
 * in one run directly (the limit on this machine), through wsgate as users run it (`wsgate --config`,
 * `workers: auto`, a route whose only line is `req.proxy(upstream(...))`: ./product-gateway.ts), through nginx
 * (`worker_processes auto`, `proxy_pass` with the Upgrade headers), for reference through a node TCP
 * relay with no HTTP at all, with as many workers as wsgate and the same cluster scheduling (what node's
 * sockets cost alone, the floor under any node proxy: ./node-relay.ts), through the `http-proxy` package in the
 * same cluster (./http-proxy-cluster.ts; not on TLS), and, for the two throughput figures, through nginx with 16k
 * proxy buffers (./nginx-proxy.ts, TUNED_BUFFERS). The load generator (this process,
 * core 0) is the terminate-mode benchmark's: raw sockets, prebuilt masked frames, interleaved slices so that
 * noise falls on all alike. Prints a Markdown table, with how each side's workers shared the load; writes the
 * same as JSON to packages/bench/results/proxy.json.
 *
 * Knobs (environment): BENCH_SECONDS (counted seconds per figure and side, default 3), BENCH_IDLE_CONNECTIONS
 * (default 5000), PROXY_WORKERS (wsgate's `workers:`, default auto), BENCH_CPU_PROF (a folder for the wsgate
 * processes' CPU profiles), BENCH_PARTS (a comma list of the figures to run — memory, handshakes, small, large,
 * latency, tls — default all; a partial run prints its table and leaves results/proxy.json as it was).
 */
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { fmt } from '../gateway/format.js';
import { upgradeRequest } from '../gateway/frames.js';
import { ensureFileLimit } from '../gateway/limits.js';
import { nextSourceAddress } from '../gateway/loopback.js';
import { EchoLoad } from '../gateway/phases/echo-load.js';
import { HandshakeLoad } from '../gateway/phases/handshakes.js';
import { LatencyLoad } from '../gateway/phases/latency.js';
import { MachineLoad } from '../gateway/machine-load.js';
import type { SliceCount, SlicedLoad } from '../gateway/phases/slice.js';
import { measure as measureSides } from '../gateway/measure.js';
import { runGuarded } from '../gateway/run-guard.js';
import { killAllServers, pinSelf, pinning, ServerProcess } from '../gateway/servers.js';
import { closeAll, openMany, type Target } from '../gateway/ws-client.js';
import { LARGE_BINARY, SMALL_TEXT, payloadLength } from '../gateway/workloads.js';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, makeCertificates, killWsgates } from '@wsgate/test-kit';
import { killNginxes, type Nginx } from '@wsgate/test-kit';
import { startNginxProxy, TUNED_BUFFERS } from './nginx-proxy.js';
import { residentBytes, socketCount } from './process-stats.js';
import { startProxyGateway } from './product-gateway.js';
import type { CliGateway } from '../cli-gateway.js';
import { killRelays, RelayProcess } from './relay-process.js';
import { toMarkdown, writeJson, type Column, type MultiProcess, type ProxyFigure, type ProxyReport } from './table.js';
import { tlsHandshakeCpu, type TlsCpu } from './tls-handshake-cpu.js';
import { CpuSplit, describeShare, type WorkerShare } from './worker-share.js';

const env = process.env;
const seconds = Number(env.BENCH_SECONDS ?? 3);
const idleConnections = Number(env.BENCH_IDLE_CONNECTIONS ?? 5000);
const workersKnob = env.PROXY_WORKERS ?? 'auto';
const workers: number | 'auto' = workersKnob === 'auto' ? 'auto' : Number(workersKnob);
const PARTS = ['memory', 'handshakes', 'small', 'large', 'latency', 'tls'] as const;
type Part = (typeof PARTS)[number];
const parts = new Set((env.BENCH_PARTS ?? PARTS.join(',')).split(',').map((p) => p.trim())) as Set<Part>;
const partial = PARTS.some((p) => !parts.has(p));
/** The sides of every figure; the throughput figures add nginx with 16k proxy buffers (THROUGHPUT_SIDES). */
const SIDES: readonly Column[] = ['direct', 'wsgate', 'nginx', 'nodeRelay', 'httpProxy'];
const THROUGHPUT_SIDES: readonly Column[] = [...SIDES, 'nginxTuned'];
const NAMES: Record<Column, string> = { direct: 'direct', wsgate: 'wsgate', nginx: 'nginx', nodeRelay: 'node relay', httpProxy: 'http-proxy', nginxTuned: 'nginx 16k buffers' };
const CONNECTIONS = 50;
/** TLS handshake loops: enough to keep both proxy workers busy, few enough for one client core doing TLS too. */
const TLS_CLIENTS = 10;
const SLICE_MS = 500;
const slicing = { warmupMs: 1000, rampMs: 150, sliceMs: SLICE_MS, slices: Math.max(1, Math.round((seconds * 1000) / SLICE_MS)) };
// A run takes about 4 minutes on a busy 2-core machine.
const WATCHDOG_MS = 420_000;
const resultFile = fileURLToPath(new URL('../../results/proxy.json', import.meta.url));
const HTTP_PROXY_VERSION = (createRequire(import.meta.url)('http-proxy/package.json') as { version: string }).version;

const log = (m: string) => void process.stderr.write(`[bench-proxy] ${m}\n`);

/** The multi-process sides: their master's pid and their workers' (read when asked: /proc). */
type Processes = Record<MultiProcess, { master: number; workers: readonly number[] }>;

const isMultiProcess = (side: Column): side is MultiProcess => side !== 'direct';

/** The sides' worker shares of each figure's CPU, by figure key. */
const workerShares: Record<string, Partial<Record<MultiProcess, WorkerShare>>> = {};

/**
 * One figure, the sides in interleaved slices (see ../gateway/measure.ts), and how each multi-process side's
 * workers shared its CPU meanwhile: each side works only in its own slices, so the split is that figure's.
 */
async function measure<L extends SlicedLoad>(
  key: string,
  processes: () => Processes,
  title: string,
  open: (side: Column) => L | Promise<L>,
  value: (total: SliceCount, load: L, side: Column) => number,
  show: (v: number) => string,
  order: readonly Column[] = SIDES,
): Promise<Partial<Record<Column, number>>> {
  const now = processes();
  const measured = order.filter(isMultiProcess);
  const splits = Object.fromEntries(measured.map((side) => [side, new CpuSplit(now[side].master, now[side].workers)])) as Partial<Record<MultiProcess, CpuSplit>>;
  const values = await measureSides({ order, names: NAMES, slicing, log }, title, open, value, show);
  const shares = Object.fromEntries(measured.map((side) => [side, splits[side]!.share()])) as Partial<Record<MultiProcess, WorkerShare>>;
  workerShares[key] = shares;
  log(`  workers' CPU: ${measured.map((side) => `${NAMES[side]} ${describeShare(shares[side]!, side.startsWith('nginx') ? 'master' : 'primary')}`).join('; ')}`);
  return values;
}

/**
 * RSS added per idle connection held open through `target`, measured on `pids`, and how the side's `workers`
 * hold them (their sockets, from /proc: two per proxied connection, the client's and the upstream's);
 * `whileOpen` runs with the connections open. No collection before the readings: nginx and the node peers have
 * no way to ask for one (wsgate has, `POST /memory/collect`, but one side collected would not compare), so
 * garbage the handshakes left is counted, for every side.
 */
async function idleMemory(
  target: Target,
  pids: () => readonly number[],
  workers: () => readonly number[],
  whileOpen: () => Promise<void> = async () => {},
): Promise<{ perConnection: number; byWorker: number[] }> {
  const from = nextSourceAddress();
  await closeAll(await openMany(target, from, 300, 100, 30_000), 5000);
  await new Promise((r) => setTimeout(r, 1000));
  const before = residentBytes(pids());
  const socketsBefore = workers().map(socketCount);
  const sockets = await openMany(target, from, idleConnections, 100, 60_000);
  try {
    for (const s of sockets) s.on('error', () => s.destroy());
    await new Promise((r) => setTimeout(r, 1000));
    const open = sockets.filter((s) => !s.destroyed).length;
    if (open < sockets.length) throw new Error(`${sockets.length - open} idle connections were dropped`);
    const perConnection = (residentBytes(pids()) - before) / idleConnections;
    const byWorker = workers().map((pid, i) => Math.round((socketCount(pid) - socketsBefore[i]!) / 2));
    await whileOpen();
    return { perConnection, byWorker };
  } finally {
    await closeAll(sockets, 20_000);
  }
}

async function main(): Promise<void> {
  pinSelf(0);
  log(`pinning: ${pinning ? 'load generator on cpu 0, upstream on cpu 1, proxies on both' : 'none'}`);
  const loadAverage = loadavg().map((v) => Number(v.toFixed(2)));
  log(`load average at start: ${loadAverage.join(' ')} (other processes share this machine: see the foreign CPU share at the end)`);
  const upstream = await ServerProcess.start({ name: 'upstream (bare ws)', entry: './bare-server.js' });
  // One ECDSA P-256 certificate for both TLS listeners, wsgate's and nginx's.
  const certificates = makeCertificates(['127.0.0.1']);
  const certificate = { cert: join(certificates.dir, 'leaf.pem'), key: join(certificates.dir, 'leaf.key') };
  let wsgate: CliGateway | undefined;
  let relay: RelayProcess | undefined;
  let nginx: Nginx | undefined;
  let httpProxy: RelayProcess | undefined;
  let nginxTuned: Nginx | undefined;
  try {
    const profile = env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${env.BENCH_CPU_PROF}`] : [];
    wsgate = await startProxyGateway({ upstreamPort: upstream.port, workers, nodeFlags: profile, tls: certificate });
    // The floor beside the figure: as many workers as wsgate resolved `workers:` to.
    relay = await RelayProcess.start(upstream.port, wsgate.workerCount, certificate);
    const nginxPort = await freePort();
    const nginxTlsPort = await freePort();
    nginx = await startNginxProxy(nginxPort, upstream.port, { port: nginxTlsPort, ...certificate });
    httpProxy = await RelayProcess.startHttpProxy(upstream.port, wsgate.workerCount);
    const nginxTunedPort = await freePort();
    nginxTuned = await startNginxProxy(nginxTunedPort, upstream.port, undefined, true);
    const ports: Record<Column, number> = {
      direct: upstream.port,
      wsgate: wsgate.port,
      nginx: nginxPort,
      nodeRelay: relay.port,
      httpProxy: httpProxy.port,
      nginxTuned: nginxTunedPort,
    };
    const target = (side: Column): Target => ({ port: ports[side], request: upgradeRequest(ports[side], '/', 'echo') });
    log(
      `upstream :${upstream.port}, wsgate :${wsgate.port} (wsgate --config, workers: ${workers} → ${wsgate.workerCount}, primary pid ${wsgate.primaryPid}), ` +
        `nginx :${nginxPort} (worker_processes auto), node relay :${relay.port} (${wsgate.workerCount} workers), ` +
        `http-proxy ${HTTP_PROXY_VERSION} :${httpProxy.port} (${wsgate.workerCount} workers), nginx with 16k proxy buffers :${nginxTunedPort}`,
    );
    const processes = (): Processes => ({
      wsgate: { master: wsgate!.primaryPid, workers: wsgate!.workerPids },
      nginx: { master: nginx!.pids[0]!, workers: nginx!.pids.slice(1) },
      nodeRelay: { master: relay!.pids[0]!, workers: relay!.workerPids },
      httpProxy: { master: httpProxy!.pids[0]!, workers: httpProxy!.workerPids },
      nginxTuned: { master: nginxTuned!.pids[0]!, workers: nginxTuned!.pids.slice(1) },
    });
    const machine = new MachineLoad(() => [process.pid, upstream.pid, ...wsgate!.pids, ...nginx!.pids, ...relay!.pids, ...httpProxy!.pids, ...nginxTuned!.pids]);
    machine.begin();

    const memory: Partial<Record<Column, number>> = {};
    const connectionsPerWorker: Partial<Record<MultiProcess, number[]>> = {};
    if (parts.has('memory')) {
      log(`resident memory per idle connection (${fmt(idleConnections)} connections; no collection first: see idleMemory)`);
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
      let managementCount = 0;
      const wsgateIdle = await idleMemory(
        target('wsgate'),
        () => wsgate!.pids,
        () => wsgate!.workerPids,
        async () => void (managementCount = (await wsgate!.status()).connections),
      );
      memory.wsgate = wsgateIdle.perConnection / 1024;
      connectionsPerWorker.wsgate = wsgateIdle.byWorker;
      log(`  wsgate (primary + workers): ${fmt(memory.wsgate, 2)} KiB; by worker ${wsgateIdle.byWorker.join(' / ')} (management API: ${managementCount} open)`);
      const nginxIdle = await idleMemory(target('nginx'), () => nginx!.pids, () => nginx!.pids.slice(1));
      memory.nginx = nginxIdle.perConnection / 1024;
      connectionsPerWorker.nginx = nginxIdle.byWorker;
      log(`  nginx (master + workers): ${fmt(memory.nginx, 2)} KiB; by worker ${nginxIdle.byWorker.join(' / ')}`);
      const relayIdle = await idleMemory(target('nodeRelay'), () => relay!.pids, () => relay!.workerPids);
      memory.nodeRelay = relayIdle.perConnection / 1024;
      connectionsPerWorker.nodeRelay = relayIdle.byWorker;
      log(`  node relay (primary + workers): ${fmt(memory.nodeRelay, 2)} KiB; by worker ${relayIdle.byWorker.join(' / ')}`);
      const httpProxyIdle = await idleMemory(target('httpProxy'), () => httpProxy!.pids, () => httpProxy!.workerPids);
      memory.httpProxy = httpProxyIdle.perConnection / 1024;
      connectionsPerWorker.httpProxy = httpProxyIdle.byWorker;
      log(`  http-proxy (primary + workers): ${fmt(memory.httpProxy, 2)} KiB; by worker ${httpProxyIdle.byWorker.join(' / ')}`);
    }

    const skipped = async (): Promise<Partial<Record<Column, number>>> => ({});
    const handshakes = !parts.has('handshakes') ? await skipped() : await measure(
      'handshakesPerSecond',
      processes,
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
    const small = !parts.has('small') ? await skipped() : await measure(
      'smallMessagesPerSecond',
      processes,
      `messages/s, 64 B, ${CONNECTIONS} connections × 16 in flight`,
      echo(SMALL_TEXT, 16),
      (t) => t.count / t.seconds,
      (v) => fmt(v),
      THROUGHPUT_SIDES,
    );
    const large = !parts.has('large') ? await skipped() : await measure(
      'largeMegabytesPerSecond',
      processes,
      `MB/s echoed, 64 KiB, ${CONNECTIONS} connections × 4 in flight`,
      echo(LARGE_BINARY, 4),
      (t) => (t.count * payloadLength(LARGE_BINARY)) / t.seconds / 1e6,
      (v) => fmt(v, 1),
      THROUGHPUT_SIDES,
    );
    const p99: Partial<Record<Column, number>> = {};
    if (parts.has('latency')) await measure(
      'latencyP99Micros',
      processes,
      `round-trip latency, 64 B, ${CONNECTIONS} connections × 1 in flight`,
      (side) => LatencyLoad.open(target(side), nextSourceAddress(), { connections: CONNECTIONS, frame: SMALL_TEXT, maxSamples: 2_000_000 }),
      (_t, load, side) => {
        const p = load.percentiles();
        p99[side] = p.p99;
        return p.p50;
      },
      (v) => `p50 ${fmt(v)} µs`,
    );
    if (parts.has('latency')) log(`  p99: ${SIDES.map((s) => `${s} ${fmt(p99[s] ?? 0)} µs`).join(', ')}`);

    // The node relay with TLS too: node's floor for a TLS handshake, beside nginx's.
    const tlsSides = {
      wsgate: { port: wsgate.tlsPort!, pids: () => wsgate!.pids },
      nginx: { port: nginxTlsPort, pids: () => nginx!.pids },
      nodeRelay: { port: relay.tlsPort!, pids: () => relay!.pids },
    };
    type TlsSideName = keyof typeof tlsSides;
    const tlsNames = Object.keys(tlsSides) as TlsSideName[];
    const tlsCpu: Record<'full' | 'resumed', Record<TlsSideName, TlsCpu>> = { full: undefined!, resumed: undefined! };
    for (const kind of parts.has('tls') ? (['full', 'resumed'] as const) : []) {
      log(`proxy CPU per TLS handshake (${kind}; wss in, ws out, TLS 1.3, the same ECDSA P-256 certificate)`);
      tlsCpu[kind] = await tlsHandshakeCpu(tlsSides, { ca: certificates.ca, resume: kind === 'resumed', clients: TLS_CLIENTS, perTurn: 15, turns: 3 });
      for (const side of tlsNames) {
        const t = tlsCpu[kind][side];
        log(`  ${side}: ${fmt(t.micros)} µs (${fmt(t.handshakes)} handshakes, ${(t.resumed * 100).toFixed(0)} % resumed)`);
      }
    }
    const tlsValues = (kind: 'full' | 'resumed') => (tlsCpu[kind] === undefined ? {} : Object.fromEntries(tlsNames.map((side) => [side, tlsCpu[kind][side].micros])));
    const resumedShare = (side: TlsSideName) => (tlsCpu.resumed === undefined ? '—' : `${(tlsCpu.resumed[side].resumed * 100).toFixed(0)} %`);
    const warnings = wsgate.warnings();
    if (warnings.length > 0) log(`wsgate logged ${warnings.length} warnings or errors; the first: ${JSON.stringify(warnings[0])}`);
    const foreignCpuShare = machine.foreignShare();
    if (foreignCpuShare !== undefined) log(`other processes took ${(foreignCpuShare * 100).toFixed(1)} % of the machine's CPU during the run`);

    // Targets of issue 17 (oriented as vsNginx: latency ≤ 1.2 × nginx's is nginx ÷ wsgate ≥ 1 / 1.2, TLS CPU ≤ 1.5 × nginx's).
    const figures: ProxyFigure[] = [
      { key: 'handshakesPerSecond', label: `handshakes/s (${CONNECTIONS} clients)`, values: handshakes, better: 'higher', decimals: 0, vsDirect: false, targets: { nginx: 0.75, nodeRelay: 0.95, httpProxy: 1.5 } },
      { key: 'smallMessagesPerSecond', label: '64 B messages/s (50 conns × 16 in flight)', values: small, better: 'higher', decimals: 0, vsDirect: true, targets: { nginx: 1, nodeRelay: 1, nginxTuned: 1 } },
      { key: 'largeMegabytesPerSecond', label: '64 KiB MB/s echoed (50 conns × 4 in flight)', values: large, better: 'higher', decimals: 1, vsDirect: true, targets: { nginx: 1, nodeRelay: 1, nginxTuned: 1 } },
      { key: 'latencyP99Micros', label: 'p99 round trip, µs (50 conns × 1 in flight)', values: p99, better: 'lower', decimals: 0, vsDirect: false, targets: { nginx: 1 / 1.2 } },
      { key: 'tlsFullHandshakeCpuMicros', label: 'proxy CPU per full TLS handshake, µs (wss in, ws out)', values: tlsValues('full'), better: 'lower', decimals: 0, vsDirect: false, targets: { nginx: 1 / 1.5 } },
      {
        key: 'tlsResumedHandshakeCpuMicros',
        label: `proxy CPU per resuming TLS handshake, µs (resumed: wsgate ${resumedShare('wsgate')}, nginx ${resumedShare('nginx')}, node relay ${resumedShare('nodeRelay')})`,
        values: tlsValues('resumed'),
        better: 'lower',
        decimals: 0,
        vsDirect: false,
        targets: { nginx: 1 / 1.5 },
      },
      { key: 'idleConnectionKiB', label: `RSS per idle proxied connection, KiB (${fmt(idleConnections)}; direct: the upstream's; no GC first)`, values: memory, better: 'lower', decimals: 2, vsDirect: false, targets: { nginx: 1 } },
    ];
    const report: ProxyReport = {
      date: new Date().toISOString(),
      node: process.version,
      settings: {
        ...slicing,
        seconds,
        connections: CONNECTIONS,
        idleConnections,
        workers,
        workerCount: wsgate.workerCount,
        pinning,
        loadAverage,
        httpProxyVersion: HTTP_PROXY_VERSION,
        nginxTunedBuffers: TUNED_BUFFERS.join(' '),
      },
      figures,
      workerShares,
      connectionsPerWorker,
      ...(foreignCpuShare !== undefined ? { foreignCpuShare } : {}),
    };
    process.stdout.write(toMarkdown(report) + '\n');
    if (partial) {
      log(`a partial run (BENCH_PARTS=${[...parts].join(',')}): ${resultFile} left as it was`);
    } else {
      writeJson(report, resultFile);
      log(`written to ${resultFile}`);
    }
  } finally {
    await Promise.all([wsgate?.stop(), relay?.stop(), nginx?.stop(), httpProxy?.stop(), nginxTuned?.stop(), upstream.stop()]);
    rmSync(certificates.dir, { recursive: true, force: true });
  }
}

function killEverything(): void {
  killAllServers();
  killWsgates();
  killRelays();
  killNginxes();
}

function validateKnobs(): void {
  if (!(seconds > 0 && seconds <= 10)) throw new Error('BENCH_SECONDS must be in (0, 10]');
  if (!(Number.isInteger(idleConnections) && idleConnections >= 100 && idleConnections <= 8000)) throw new Error('BENCH_IDLE_CONNECTIONS must be an integer in [100, 8000]');
  for (const p of parts) if (!PARTS.includes(p)) throw new Error(`BENCH_PARTS: ${p} is not one of ${PARTS.join(', ')}`);
  if (workers !== 'auto' && !(Number.isInteger(workers) && workers >= 1 && workers <= 16)) throw new Error('PROXY_WORKERS must be auto or an integer in [1, 16]');
}

await runGuarded({
  log,
  validate: validateKnobs,
  ready: () => ensureFileLimit(idleConnections + 1000, 'set BENCH_IDLE_CONNECTIONS lower'),
  watchdogMs: WATCHDOG_MS,
  killAll: killEverything,
  main,
});
