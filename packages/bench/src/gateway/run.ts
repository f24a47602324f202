/**
 * `pnpm bench`: the wsgate sample gateway (terminate mode) against a bare `ws` server, side by side in one run.
 * The gateway is the product as users start it, `wsgate --config` (./sample-gateway.ts), the bare server a
 * child of this benchmark (./bare-server.ts); both are pinned to one core, and this process, on the other
 * core, is the load generator.
 * The handshake figure has the node floor beside them (./handshake-floor.ts: the least any node server does for a
 * correct handshake, with its ratio to bare `ws`), and Debian's Kamailio answers the SIP OPTIONS figure, both on
 * the servers' core. Prints a Markdown table and writes the same as JSON to packages/bench/results/gateway.json.
 *
 * Knobs (environment): BENCH_SECONDS (counted seconds per server and figure, default 3), BENCH_IDLE_CONNECTIONS
 * (default 10000), BENCH_SERVERS (`gateway,bare` by default; one alone for a partial run), BENCH_CPU_PROF (a
 * folder: the gateway writes a `--cpu-prof` profile there when the run ends).
 */
import { fileURLToPath } from 'node:url';
import { killWsgates } from '@wsgate/test-kit';
import { NAMES, runGatewayBench, type Side } from './bench.js';
import { ensureFileLimit } from './limits.js';
import { MachineLoad } from './machine-load.js';
import { toMarkdown, writeReport, type Report } from './report.js';
import { runGuarded } from './run-guard.js';
import { killAllServers, pinSelf, pinning } from './servers.js';
import { killKamailios } from '../sip/kamailio.js';

const env = process.env;
const seconds = Number(env.BENCH_SECONDS ?? 3);
const idleConnections = Number(env.BENCH_IDLE_CONNECTIONS ?? 10_000);
const sides = (env.BENCH_SERVERS ?? 'gateway,bare').split(',').map((s) => s.trim()) as Side[];
const profileDir = env.BENCH_CPU_PROF;

const CONNECTIONS = 50;
/** Idle-memory readings per side, after one that is not counted (see bench.ts). */
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
  if (sides.length === 0 || new Set(sides).size !== sides.length || sides.some((s) => !(s in NAMES))) {
    throw new Error('BENCH_SERVERS must list gateway and/or bare');
  }
}

async function main(machine: MachineLoad): Promise<void> {
  pinSelf(0);
  log(`pinning: ${pinning ? 'load generator on cpu 0, servers on cpu 1' : 'none (no taskset or one core)'}`);
  const result = await runGatewayBench({
    sides,
    slicing,
    connections: CONNECTIONS,
    idleConnections,
    memoryRounds: MEMORY_ROUNDS,
    warmupConnections: 300,
    ...(profileDir ? { profileDir } : {}),
    log,
    onPids: (pids) => (serverPids = [...pids]),
  });
  const foreign = machine.foreignShare();
  const report: Report = {
    date: new Date().toISOString(),
    node: process.version,
    settings: { ...slicing, seconds, connections: CONNECTIONS, idleConnections, pinning, servers: sides },
    figures: result.figures,
    sip: result.sip,
    ...(foreign !== undefined ? { foreignCpuShare: foreign } : {}),
  };
  writeReport(report, resultFile);
  process.stdout.write(toMarkdown(report) + '\n');
  log(`written to ${resultFile}`);
}

let serverPids: number[] = [];

await runGuarded({
  log,
  validate: validateKnobs,
  ready: () => ensureFileLimit(idleConnections + 1000, 'set BENCH_IDLE_CONNECTIONS lower'),
  watchdogMs: WATCHDOG_MS,
  killAll: () => {
    killAllServers();
    killWsgates();
    killKamailios();
  },
  main: () => {
    const machine = new MachineLoad(() => [process.pid, ...serverPids]);
    machine.begin();
    return main(machine);
  },
});
