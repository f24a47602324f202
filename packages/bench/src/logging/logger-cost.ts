/**
 * What the gateway's logger costs per connection: its two `info` lines (`websocket opened`, `websocket
 * closed`, with the fields gateway.ts gives them), N times, for the pino logger (`createLogger`) and for the
 * JSON-lines logger it replaced (./json-lines-logger.ts), each run in its own child process, interleaved;
 * medians and ranges of the CPU per connection.
 *
 * Run: `tsc -b && node packages/bench/dist/logging/logger-cost.js` (about a minute; RUNS, default 9).
 * `null`: each line handed to a function that drops it (the logger's own CPU). `devnull`: each line written
 * to /dev/null with write(2), as both write a file or a pipe (the command's stdout).
 */
import { spawnSync } from 'node:child_process';
import { openSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createLogger, type Logger } from '@wsgate/core';
import { jsonLinesLogger } from './json-lines-logger.js';

const N = 300_000;
const LOGGERS = ['json-lines', 'pino'] as const;
const SINKS = ['null', 'devnull'] as const;
type Which = (typeof LOGGERS)[number];
type Sink = (typeof SINKS)[number];

/** One measurement in this process: µs of CPU per connection's two lines. */
function measure(which: Which, sink: Sink): number {
  const fd = sink === 'devnull' ? openSync('/dev/null', 'a') : -1;
  const write = sink === 'null' ? () => {} : (line: string) => void writeSync(fd, line);
  let log: Logger;
  if (which === 'json-lines') log = jsonLinesLogger(write);
  else log = sink === 'null' ? createLogger({ level: 'info', write }) : createLogger({ level: 'info', fd });
  const counts = { messagesIn: 3, messagesOut: 3, bytesIn: 120, bytesOut: 120 };
  const connection = (i: number) => {
    const client = '127.0.0.1:40000';
    if (log.isLevelEnabled('info')) log.info({ conn: i, kind: 'terminated', client, protocol: 'echo', path: '/' }, 'websocket opened');
    if (log.isLevelEnabled('info')) log.info({ conn: i, kind: 'terminated', client, code: 1000, reason: '', by: 'remote', seconds: 0.002, ...counts }, 'websocket closed');
  };
  for (let i = 0; i < N / 10; i++) connection(i); // warm-up: optimised code from here
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < N; i++) connection(i);
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / N;
}

function main(): void {
  const [mode, which, sink] = process.argv.slice(2);
  if (mode === 'child') return void process.stdout.write(`${measure(which as Which, sink as Sink)}\n`);
  const runs = Number(process.env.RUNS ?? 9);
  const self = fileURLToPath(import.meta.url);
  const results = new Map<string, number[]>();
  for (let run = 0; run < runs; run++) {
    for (const s of SINKS) {
      for (const w of LOGGERS) {
        const child = spawnSync(process.execPath, [self, 'child', w, s], { encoding: 'utf8' });
        if (child.status !== 0) throw new Error(`${w} ${s}: ${child.stderr}`);
        const key = `${w} ${s}`;
        results.set(key, [...(results.get(key) ?? []), Number(child.stdout)]);
      }
    }
  }
  for (const [key, values] of results) {
    const sorted = [...values].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    console.log(`${key}: ${median.toFixed(2)} µs CPU per connection's two lines (median of ${runs}; ${sorted[0]!.toFixed(2)}–${sorted.at(-1)!.toFixed(2)})`);
  }
}

main();
