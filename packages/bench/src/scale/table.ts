/** The scale benchmark's answer: a Markdown table of both comparisons with their ratios and targets, and the same as JSON. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { cell, mark, meets } from '../gateway/format.js';
import type { RunReport } from '../gateway/report.js';
import type { GuardedHandshakes } from './guarded-handshake.js';
import type { SendAcross } from './send-across.js';
import { REDIS_CPU } from './redis-commands.js';

/** Redis / memory handshakes per second must reach this (issue 15.6). */
export const GUARDED_TARGET = 0.85;

export interface ScaleFigure {
  readonly key: string;
  readonly label: string;
  /** The memory store, or the send on one node. */
  readonly base: number;
  /** The Redis store, or the send across nodes. */
  readonly scaled: number;
  readonly better: 'higher' | 'lower';
  readonly decimals: number;
  /** scaled / base must reach it (oriented so that higher is better); none: shown for information. */
  readonly target?: number;
  /** The median of each round's ratio, where the rounds pair the sides: steadier than the ratio of the medians. */
  readonly pairedRatio?: number;
}

export interface ScaleReport extends RunReport<ScaleFigure> {
  /** `os.loadavg()` when the run began and when it ended: other processes share the machine. */
  readonly loadAverage: { readonly start: readonly number[]; readonly end: readonly number[] };
  readonly guarded: GuardedHandshakes;
  readonly send: SendAcross;
}

/** scaled against base, oriented so that ≥ 1.00 means "as good": scaled / base, or base / scaled for latency and CPU. */
export function ratioOf(f: ScaleFigure): number {
  if (f.pairedRatio !== undefined) return f.pairedRatio;
  return f.better === 'higher' ? f.scaled / f.base : f.base / f.scaled;
}

export function figuresOf(guarded: GuardedHandshakes, send: SendAcross): ScaleFigure[] {
  const { local, across } = send.sides;
  return [
    { key: 'guardedHandshakesPerSecond', label: 'S2 guarded handshakes/s (memory store → Redis store)', base: guarded.perSecond.memory, scaled: guarded.perSecond.redis, better: 'higher', decimals: 0, target: GUARDED_TARGET, pairedRatio: guarded.ratio },
    { key: 'guardedCpuMicros', label: 'gateway CPU per guarded handshake, µs', base: guarded.cpuMicrosPerHandshake.memory, scaled: guarded.cpuMicrosPerHandshake.redis, better: 'lower', decimals: 0 },
    { key: 'sendPerSecond', label: `send-to-connection msg/s, ${send.settings.senders}×${send.settings.window} in flight (one node → across nodes)`, base: local.perSecond, scaled: across.perSecond, better: 'higher', decimals: 0, pairedRatio: send.ratio },
    { key: 'sendP50', label: 'send latency p50, ms (one in flight)', base: local.p50, scaled: across.p50, better: 'lower', decimals: 3 },
    { key: 'sendP99', label: 'send latency p99, ms (one in flight)', base: local.p99, scaled: across.p99, better: 'lower', decimals: 3 },
    { key: 'sendLoadedP50', label: 'send latency p50 under the msg/s load, ms', base: local.loadedP50, scaled: across.loadedP50, better: 'lower', decimals: 2 },
    { key: 'sendLoadedP99', label: 'send latency p99 under the msg/s load, ms', base: local.loadedP99, scaled: across.loadedP99, better: 'lower', decimals: 2 },
    { key: 'sendCpuMicros', label: 'both gateways\' CPU per message, µs', base: local.cpuMicrosPerMessage, scaled: across.cpuMicrosPerMessage, better: 'lower', decimals: 1 },
  ];
}

export function toMarkdown(report: ScaleReport): string {
  const lines = ['| figure | memory / one node | Redis / across nodes | ratio (target) |', '|---|---:|---:|---:|'];
  for (const f of report.figures) {
    const ratio = ratioOf(f);
    const verdict = f.target === undefined ? ratio.toFixed(2) : `${ratio.toFixed(2)}${mark(meets(ratio, f.target, 'higher'))} (≥ ${f.target.toFixed(2)})`;
    lines.push(`| ${f.label} | ${cell(f.base, f.decimals)} | ${cell(f.scaled, f.decimals)} | ${verdict} |`);
  }
  const { rounds, errors } = report.guarded;
  lines.push(
    '',
    `Medians of ${rounds.length} rounds alternating the sides; the throughput ratios are the medians of each round's, the others the ratios of the medians, oriented so that ≥ 1.00 means Redis / across nodes is as good (latency and CPU: base ÷ scaled).`,
    `Guarded handshakes, redis / memory by round: ${rounds.map((r) => (r.redis / r.memory).toFixed(3)).join(', ')}; handshake errors ${errors}; messages lost ${report.send.lost}.`,
    `Redis commands per guarded handshake: ${describeCommands(report.guarded.redisCommandsPerHandshake)}; per message sent across nodes: ${describeCommands(report.send.redisCommandsPerMessage)}.`,
    `redis-server CPU per guarded handshake: ${cpuOf(report.guarded.redisCommandsPerHandshake)} µs; per message sent across nodes: ${cpuOf(report.send.redisCommandsPerMessage)} µs.`,
    `Load average (1, 5, 15 min): ${report.loadAverage.start.join(' ')} at start, ${report.loadAverage.end.join(' ')} at the end.`,
  );
  return lines.join('\n');
}

export function writeJson(report: ScaleReport, file: string): void {
  const figures = report.figures.map((f) => ({ ...f, ratio: ratioOf(f) }));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ ...report, figures }, null, 2) + '\n');
}

/** `get 2.00, multi 1.35, …`, most first. */
function describeCommands(perUnit: Record<string, number>): string {
  return Object.entries(perUnit).filter(([name]) => name !== REDIS_CPU).sort((a, b) => b[1] - a[1]).map(([name, n]) => `${name} ${n.toFixed(2)}`).join(', ') || 'none';
}

/** redis-server's CPU per unit (µs), from the same counts. */
function cpuOf(perUnit: Record<string, number>): string {
  return (perUnit[REDIS_CPU] ?? 0).toFixed(1);
}
