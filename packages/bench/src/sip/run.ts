/**
 * `npm run bench`'s SIP part: wsgate's `sipService` (the CLI with wsgate-routes.js) against Debian's Kamailio
 * as a WebSocket registrar and stateful proxy (kamailio.ts), side by side in one run, with the same users
 * (one htdigest file) and the same load generator (load.ts, in child processes of their own).
 *
 * Figures: REGISTERs per second with digest (each a 401 and a 200), MESSAGEs relayed per second between
 * registered phones with their p50/p99 round trips (each a 407, the relay, the callee's 200), the server's CPU
 * per REGISTER and per MESSAGE (the rates depend on how many cores each server gets; this does not), and memory per
 * registered phone (server memory with BENCH_SIP_PHONES phones registered, less the idle server's, divided by
 * that many). The rates are medians of rounds in which the servers take turns; memory is read once per
 * server, first, on the fresh server. Prints a Markdown table; writes JSON to packages/bench/results/sip.json.
 *
 * Knobs (environment): BENCH_SIP_SECONDS (counted seconds per round and figure, default 2), BENCH_SIP_ROUNDS
 * (default 5), BENCH_SIP_PHONES (default 2000), BENCH_SIP_SERVERS (`wsgate,kamailio,floor` by default: floor is
 * node-floor.ts, the least any node SIP server on `ws` does, beside the figures as the proxy bench's node relay; one alone for
 * a partial run), BENCH_SIP_LOAD_PROCESSES (1 or 2, default 2).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, sleep, killWsgates } from '@wsgate/test-kit';
import { fmt } from '../gateway/format.js';
import { ensureFileLimit } from '../gateway/limits.js';
import { MachineLoad } from '../gateway/machine-load.js';
import { median } from '../gateway/phases/idle-memory.js';
import { runGuarded } from '../gateway/run-guard.js';
import { cpuMicros } from '../proxy/process-stats.js';
import { killAllServers, ServerProcess } from '../gateway/servers.js';
import { Kamailio, killKamailios } from './kamailio.js';
import type { LoadJob, LoadReply, RateResult, User } from './load.js';
import { serverMemoryBytes } from './server-memory.js';
import { toMarkdown, writeJson, type SipFigure, type SipReport } from './table.js';
import { makeUsers, writeHtdigest } from './users.js';
import { startWsgateSip } from './wsgate.js';

type Side = 'wsgate' | 'kamailio' | 'floor';
const NAMES: Record<Side, string> = { wsgate: 'wsgate', kamailio: 'Kamailio', floor: 'node floor' };
const DOMAIN = 'example.com';

const env = process.env;
const seconds = Number(env.BENCH_SIP_SECONDS ?? 2);
const rounds = Number(env.BENCH_SIP_ROUNDS ?? 5);
const phones = Number(env.BENCH_SIP_PHONES ?? 2000);
const sides = (env.BENCH_SIP_SERVERS ?? 'wsgate,kamailio,floor').split(',').map((s) => s.trim()) as Side[];
const loadProcesses = Number(env.BENCH_SIP_LOAD_PROCESSES ?? 2);

/** Phones re-registering at once (the REGISTER figure). */
const REGISTERING = 50;
/** Caller/callee pairs, one MESSAGE in flight each (the MESSAGE figure). */
const PAIRS = 50;
const WARMUP_MS = 500;
const SETTLE_MS = 1000;
const WATCHDOG_MS = 300_000;
const resultFile = fileURLToPath(new URL('../../results/sip.json', import.meta.url));

function log(message: string): void {
  process.stderr.write(`[bench:sip] ${message}\n`);
}

function validateKnobs(): void {
  if (!(seconds > 0 && seconds <= 10)) throw new Error('BENCH_SIP_SECONDS must be in (0, 10]');
  if (!(Number.isInteger(rounds) && rounds >= 1 && rounds <= 9)) throw new Error('BENCH_SIP_ROUNDS must be an integer in [1, 9]');
  if (!(Number.isInteger(phones) && phones >= 2 * PAIRS && phones <= 10_000)) throw new Error(`BENCH_SIP_PHONES must be an integer in [${2 * PAIRS}, 10000]`);
  if (sides.length === 0 || new Set(sides).size !== sides.length || sides.some((s) => !(s in NAMES))) {
    throw new Error('BENCH_SIP_SERVERS must list some of wsgate, kamailio, floor');
  }
  if (loadProcesses !== 1 && loadProcesses !== 2) throw new Error('BENCH_SIP_LOAD_PROCESSES must be 1 or 2');
}

/** A load generator child: one job at a time, answered over IPC. */
class LoadProcess {
  private constructor(private readonly child: ChildProcess) {}

  static start(): LoadProcess {
    const child = fork(fileURLToPath(new URL('./load.js', import.meta.url)), [], { stdio: ['ignore', 2, 2, 'ipc'] });
    loadChildren.add(child);
    child.once('exit', () => loadChildren.delete(child));
    return new LoadProcess(child);
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  run(job: LoadJob, timeoutMs = 60_000): Promise<LoadReply> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`load generator: no answer to ${job.cmd} within ${timeoutMs / 1000} s`)), timeoutMs);
      const onExit = (code: number | null) => fail(new Error(`load generator exited (${code}) during ${job.cmd}`));
      const fail = (err: Error) => {
        clearTimeout(timer);
        this.child.off('message', onMessage);
        this.child.off('exit', onExit);
        reject(err);
      };
      const onMessage = (reply: LoadReply) => {
        clearTimeout(timer);
        this.child.off('exit', onExit);
        if (reply.cmd === 'error') reject(new Error(`load generator: ${reply.error}`));
        else resolve(reply);
      };
      this.child.once('message', onMessage);
      this.child.once('exit', onExit);
      this.child.send(job);
    });
  }

  stop(): void {
    this.child.kill();
  }
}

const loadChildren = new Set<ChildProcess>();

/** Splits `items` into `n` nearly equal parts, in order. */
function split<T>(items: readonly T[], n: number): T[][] {
  return Array.from({ length: n }, (_, i) => items.slice(Math.floor((i * items.length) / n), Math.floor(((i + 1) * items.length) / n)));
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

interface Server {
  readonly port: number;
  pids(): number[];
  stop(): Promise<void>;
}

async function startServer(side: Side, htdigest: string): Promise<Server> {
  const port = await freePort();
  if (side === 'kamailio') {
    // Each WebSocket holds about 72 KiB of Kamailio's shared memory (its 64 KiB read buffer and the rest).
    const k = await Kamailio.start({ port, domain: DOMAIN, htdigest, sharedMiB: Math.max(512, 256 + Math.ceil(phones / 10)) });
    return { port, pids: () => k.pids(), stop: () => k.stop() };
  }
  if (side === 'floor') {
    const f = await ServerProcess.start({ name: 'node floor (SIP)', entry: '../sip/node-floor.js' });
    return { port: f.port, pids: () => f.pids, stop: () => f.stop() };
  }
  const w = await startWsgateSip({ port, domain: DOMAIN, htdigest });
  return { port, pids: () => w.pids, stop: () => w.stop() };
}

async function main(loads: LoadProcess[], machine: MachineLoad): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'wsgate-sip-bench-users-'));
  const htdigest = join(dir, 'htdigest');
  // Each phase and round has users of its own: Kamailio keeps a binding after its WebSocket closes (until it
  // expires), so a user registered again from a new WebSocket would have MESSAGEs forked to its dead flows too.
  const perRound = REGISTERING + 2 * PAIRS;
  const users = makeUsers(phones + rounds * perRound);
  writeHtdigest(htdigest, DOMAIN, users);
  log(`${fmt(users.length)} users in ${htdigest}; servers: ${sides.map((s) => NAMES[s]).join(', ')}; ${loads.length} load process(es)`);

  const servers: Partial<Record<Side, Server>> = {};
  const stopAll = () => Promise.all(Object.values(servers).map((s) => s.stop()));
  serverPids = () => Object.values(servers).flatMap((s) => s.pids());
  try {
    for (const side of sides) servers[side] = await startServer(side, htdigest);
    const target = (side: Side) => ({ url: `ws://127.0.0.1:${servers[side]!.port}/`, domain: DOMAIN });

    // Memory first, on fresh servers: idle, then BENCH_SIP_PHONES users registered, each on its own WebSocket.
    const memory: Partial<Record<Side, number>> = {};
    for (const side of sides) {
      await sleep(SETTLE_MS);
      const idle = serverMemoryBytes(servers[side]!.pids());
      const started = performance.now();
      const parts = split(users.slice(0, phones), loads.length);
      await Promise.all(loads.map((l, i) => l.run({ cmd: 'hold', ...target(side), users: parts[i]!, concurrency: 50 }, 120_000)));
      const took = (performance.now() - started) / 1000;
      await sleep(SETTLE_MS);
      const held = serverMemoryBytes(servers[side]!.pids());
      memory[side] = (held - idle) / phones / 1024;
      log(`${NAMES[side]}: ${fmt(idle / 1048576, 1)} MiB idle, ${fmt(held / 1048576, 1)} MiB with ${fmt(phones)} phones registered ` +
        `(in ${fmt(took, 1)} s): ${fmt(memory[side]!, 2)} KiB per phone`);
      await Promise.all(loads.map((l) => l.run({ cmd: 'release' })));
    }

    // Rates: rounds in which the servers take turns; each figure the median of its rounds.
    const registerRates: Partial<Record<Side, number[]>> = {};
    const messageRates: Partial<Record<Side, number[]>> = {};
    const p50s: Partial<Record<Side, number[]>> = {};
    const p99s: Partial<Record<Side, number[]>> = {};
    // Server CPU per operation (µs): its share of a core over the phase, per operation per second. Beside the
    // rates, since Kamailio's workers and wsgate's one process do not get the same number of cores here.
    const registerCpu: Partial<Record<Side, number[]>> = {};
    const messageCpu: Partial<Record<Side, number[]>> = {};
    const rate = async (side: Side, build: (part: number) => LoadJob): Promise<{ perSecond: number; cpuMicros: number; latencies: number[] }> => {
      const pids = servers[side]!.pids();
      const cpu0 = cpuMicros(pids);
      const t0 = performance.now();
      const replies = (await Promise.all(loads.map((l, i) => l.run(build(i))))) as RateResult[];
      const serverShare = (cpuMicros(pids) - cpu0) / ((performance.now() - t0) * 1000);
      const count = replies.reduce((n, r) => n + r.count, 0);
      const failures = replies.reduce((n, r) => n + r.failures, 0);
      if (count === 0) throw new Error(`${NAMES[side]}: no ${replies[0]!.cmd} completed (${replies.find((r) => r.firstFailure)?.firstFailure ?? 'no failure seen'})`);
      const first = replies.find((r) => r.firstFailure)?.firstFailure;
      const perSecond = count / seconds;
      log(`  ${NAMES[side]}: ${fmt(perSecond)}/s; server CPU ${fmt(serverShare * 100)}% of a core (whole phase), load generator ` +
        `${replies.map((r) => `${fmt(r.cpuShare * 100)}%`).join(' + ')}` + (failures > 0 ? `; ${failures} failed, first: ${first}` : ''));
      return { perSecond, cpuMicros: (serverShare * 1e6) / perSecond, latencies: replies.flatMap((r) => r.latencies) };
    };
    for (let round = 1; round <= rounds; round++) {
      const own = users.slice(phones + (round - 1) * perRound, phones + round * perRound);
      const registering = split(own.slice(0, REGISTERING), loads.length);
      const pairs = split(
        Array.from({ length: PAIRS }, (_, i): readonly [User, User] => [own[REGISTERING + 2 * i]!, own[REGISTERING + 2 * i + 1]!]),
        loads.length,
      );
      log(`round ${round} of ${rounds}: REGISTERs/s with digest, ${REGISTERING} phones re-registering`);
      for (const side of sides) {
        const r = await rate(side, (i) => ({ cmd: 'register', ...target(side), users: registering[i]!, warmupMs: WARMUP_MS, seconds }));
        (registerRates[side] ??= []).push(r.perSecond);
        (registerCpu[side] ??= []).push(r.cpuMicros);
      }
      log(`round ${round} of ${rounds}: MESSAGEs/s relayed, ${PAIRS} pairs × 1 in flight`);
      for (const side of sides) {
        const r = await rate(side, (i) => ({ cmd: 'message', ...target(side), pairs: pairs[i]!, warmupMs: WARMUP_MS, seconds }));
        (messageRates[side] ??= []).push(r.perSecond);
        (messageCpu[side] ??= []).push(r.cpuMicros);
        const sorted = r.latencies.sort((a, b) => a - b);
        (p50s[side] ??= []).push(percentile(sorted, 0.5) / 1000);
        (p99s[side] ??= []).push(percentile(sorted, 0.99) / 1000);
        log(`    p50 ${fmt(percentile(sorted, 0.5) / 1000, 2)} ms, p99 ${fmt(percentile(sorted, 0.99) / 1000, 2)} ms`);
      }
    }

    const per = (values: Partial<Record<Side, number[]>>) => ({
      ...(values.wsgate ? { wsgate: median(values.wsgate) } : {}),
      ...(values.kamailio ? { kamailio: median(values.kamailio) } : {}),
      ...(values.floor ? { floor: median(values.floor) } : {}),
      rounds: values,
    });
    const figures: SipFigure[] = [
      { key: 'registersPerSecond', label: `REGISTERs/s with digest (401 + 200; ${REGISTERING} phones)`, ...per(registerRates), better: 'higher', target: 1.5, decimals: 0 },
      { key: 'messagesPerSecond', label: `MESSAGEs/s relayed (407 + relay + 200; ${PAIRS} pairs)`, ...per(messageRates), better: 'higher', target: 1.5, decimals: 0 },
      { key: 'registerCpuMicros', label: 'server CPU per REGISTER (401 + 200), µs', ...per(registerCpu), better: 'lower', decimals: 0 },
      { key: 'messageCpuMicros', label: 'server CPU per MESSAGE (407 + relay + 200), µs', ...per(messageCpu), better: 'lower', decimals: 0 },
      { key: 'messageP50Ms', label: 'MESSAGE round trip p50, ms', ...per(p50s), better: 'lower', decimals: 2 },
      { key: 'messageP99Ms', label: 'MESSAGE round trip p99, ms', ...per(p99s), better: 'lower', decimals: 2 },
      { key: 'memoryPerPhoneKiB', label: `memory per registered phone, KiB (${fmt(phones)} phones)`, ...memory, better: 'lower', target: 1, decimals: 2 },
    ];
    const foreign = machine.foreignShare();
    const report: SipReport = {
      date: new Date().toISOString(),
      node: process.version,
      settings: { seconds, rounds, phones, registering: REGISTERING, pairs: PAIRS, warmupMs: WARMUP_MS, loadProcesses: loads.length, servers: sides },
      figures,
      ...(foreign !== undefined ? { foreignCpuShare: foreign } : {}),
    };
    writeJson(report, resultFile);
    process.stdout.write(toMarkdown(report) + '\n');
    log(`written to ${resultFile}`);
  } finally {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

let serverPids: () => number[] = () => [];

await runGuarded({
  log,
  validate: validateKnobs,
  ready: () => ensureFileLimit(2 * phones + 1000, 'set BENCH_SIP_PHONES lower'),
  watchdogMs: WATCHDOG_MS,
  killAll: () => {
    killKamailios();
    killWsgates();
    killAllServers();
    for (const child of loadChildren) child.kill('SIGKILL');
  },
  main: async () => {
    const loads = Array.from({ length: loadProcesses }, () => LoadProcess.start());
    const machine = new MachineLoad(() => [process.pid, ...loads.map((l) => l.pid), ...serverPids()]);
    machine.begin();
    try {
      await main(loads, machine);
    } finally {
      for (const l of loads) l.stop();
    }
  },
});
