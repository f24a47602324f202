/**
 * The scale benchmark (issue 15.6), in `npm run bench`: gateways on one Redis against their one-machine
 * equivalent, every wsgate started by its CLI with a config (../cli-gateway.ts), a Redis started for the run
 * (test-kit's RedisServer: Debian's redis-server on 127.0.0.1, nothing saved).
 *
 * 1. Story S2's guarded handshake (Origin + cookie token + rate limit, ./guarded-routes.ts) with the Redis store
 *    against the memory store: target ≥ 0.85 (./guarded-handshake.ts).
 * 2. `gateway.connections.send(id, data)` to a connection on another node against the same send on one node:
 *    messages per second, p50 and p99 latency (./send-across.ts).
 *
 * The load generator is this process (raw-socket handshake loops for 1, `ws` clients for 2); the gateways and
 * redis-server are separate processes, none pinned. Short rounds alternating the sides; medians. Prints a
 * Markdown table and writes the same as JSON to packages/bench/results/scale.json.
 *
 * Run: `tsc -b && node packages/bench/dist/scale/run.js`. Knobs (environment): SCALE_ROUNDS (default 7),
 * SCALE_SLICE_MS (counted ms per side and round, default 1000), SCALE_CPU_PROF (a folder: both guarded-handshake
 * gateways write a `--cpu-prof` profile there when they stop).
 */
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { killRedises, RedisServer, killWsgates } from '@wsgate/test-kit';
import { fmt } from '../gateway/format.js';
import { runGuarded } from '../gateway/run-guard.js';

import { compareGuardedHandshakes, type RoundOptions } from './guarded-handshake.js';
import { compareSendAcross } from './send-across.js';
import { figuresOf, toMarkdown, writeJson, type ScaleReport } from './table.js';

const env = process.env;
const rounds = Number(env.SCALE_ROUNDS ?? 7);
const sliceMs = Number(env.SCALE_SLICE_MS ?? 1000);
const resultFile = fileURLToPath(new URL('../../results/scale.json', import.meta.url));
// About 70 s on a busy 2-core machine with the defaults.
const WATCHDOG_MS = 240_000;

const log = (m: string) => void process.stderr.write(`[bench-scale] ${m}\n`);
const load = () => loadavg().map((v) => Number(v.toFixed(2)));

async function main(): Promise<void> {
  const start = load();
  log(`load average at start: ${start.join(' ')}`);
  const slicing: RoundOptions = { rounds, sliceMs, rampMs: 200, warmupMs: 1000 };
  const redis = await RedisServer.start();
  try {
    log(`redis-server on :${redis.port}; S2 guarded handshakes, memory store against Redis store (${rounds} rounds of ${sliceMs} ms a side)`);
    const guarded = await compareGuardedHandshakes(redis, { ...slicing, ...(env.SCALE_CPU_PROF ? { profileDir: env.SCALE_CPU_PROF } : {}) });
    log(`guarded handshakes/s: memory ${fmt(guarded.perSecond.memory)}, redis ${fmt(guarded.perSecond.redis)} (ratio ${guarded.ratio.toFixed(3)})`);
    if (guarded.errors > 0) log(`${guarded.errors} handshake errors, the first: ${guarded.firstError}`);
    log('send-to-connection: node a holds the receiver; senders on a (one node) and on b (across nodes)');
    const send = await compareSendAcross(redis, slicing);
    log(`msg/s: one node ${fmt(send.sides.local.perSecond)}, across ${fmt(send.sides.across.perSecond)}`);
    const report: ScaleReport = {
      date: new Date().toISOString(),
      node: process.version,
      settings: { ...slicing, clients: 50, ...send.settings, loadGenerator: 'this process (node): raw-socket handshake loops, ws clients; gateways and redis-server in their own processes, unpinned' },
      figures: figuresOf(guarded, send),
      loadAverage: { start, end: load() },
      guarded,
      send,
    };
    writeJson(report, resultFile);
    process.stdout.write(toMarkdown(report) + '\n');
    log(`written to ${resultFile}`);
  } finally {
    await redis.close();
  }
}

function validateKnobs(): void {
  if (!(Number.isInteger(rounds) && rounds >= 1 && rounds <= 20)) throw new Error('SCALE_ROUNDS must be an integer in [1, 20]');
  if (!(sliceMs >= 100 && sliceMs <= 10_000)) throw new Error('SCALE_SLICE_MS must be in [100, 10000]');
}

await runGuarded({
  log,
  validate: validateKnobs,
  watchdogMs: WATCHDOG_MS,
  killAll: () => {
    killWsgates();
    killRedises();
  },
  main,
});
