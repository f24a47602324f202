/**
 * The SIP benchmark's answer: one row per figure, wsgate against Kamailio, the ratio and the target, and
 * the node floor (node-floor.ts) with its own ratio to Kamailio: how far any node server could go.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { cell, mark, meets } from '../gateway/format.js';
import type { RunReport } from '../gateway/report.js';

export interface SipFigure {
  readonly key: string;
  readonly label: string;
  readonly wsgate?: number;
  readonly kamailio?: number;
  readonly floor?: number;
  readonly better: 'higher' | 'lower';
  /** wsgate/Kamailio must be at least (higher) or at most (lower) this; none for a figure shown for information. */
  readonly target?: number;
  readonly decimals: number;
  /** Each round's value, by server, of a figure that is the median of rounds. */
  readonly rounds?: { readonly wsgate?: readonly number[]; readonly kamailio?: readonly number[]; readonly floor?: readonly number[] };
}

export interface SipReport extends RunReport<SipFigure> {
  /** The share of the machine's CPU that other processes took during the run (Linux only). */
  readonly foreignCpuShare?: number;
}

export function ratioOf(f: SipFigure): number | undefined {
  return f.wsgate !== undefined && f.kamailio !== undefined && f.kamailio > 0 ? f.wsgate / f.kamailio : undefined;
}

export function floorRatioOf(f: SipFigure): number | undefined {
  return f.floor !== undefined && f.kamailio !== undefined && f.kamailio > 0 ? f.floor / f.kamailio : undefined;
}

export function passes(f: SipFigure): boolean | undefined {
  const ratio = ratioOf(f);
  return ratio === undefined || f.target === undefined ? undefined : meets(ratio, f.target, f.better);
}

export function toMarkdown(report: SipReport): string {
  const lines = ['| figure | wsgate | Kamailio | wsgate / Kamailio | target | node floor | floor / Kamailio |', '|---|---:|---:|---:|---|---:|---:|'];
  for (const f of report.figures) {
    const target = f.target === undefined ? '(information)' : `${f.better === 'higher' ? '≥' : '≤'} ${f.target.toFixed(2)}${mark(passes(f))}`;
    lines.push(
      `| ${f.label} | ${cell(f.wsgate, f.decimals)} | ${cell(f.kamailio, f.decimals)} | ${cell(ratioOf(f), 2)} | ${target} | ` +
        `${cell(f.floor, f.decimals)} | ${cell(floorRatioOf(f), 2)} |`,
    );
  }
  if (report.foreignCpuShare !== undefined && report.foreignCpuShare > 0.05) {
    lines.push(
      '',
      `Other processes used ${Math.round(report.foreignCpuShare * 100)}% of the machine's CPU during this run: both servers' ` +
        'figures are low, and the ratios noisier (each figure is the median of rounds that alternate the servers).',
    );
  }
  return lines.join('\n');
}

export function writeJson(report: SipReport, file: string): void {
  const figures = report.figures.map((f) => ({ ...f, ratio: ratioOf(f) ?? null, pass: passes(f) ?? null, floorRatio: floorRatioOf(f) ?? null }));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ ...report, figures }, null, 2) + '\n');
}
