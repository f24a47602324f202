/**
 * The benchmark's answer: a Markdown table of each figure for both servers with the gateway/bare ratio and its
 * target, and the node floor where one was measured (the handshakes: ./handshake-floor.ts) with its own ratio to
 * bare `ws` — how far any node server could go; the SIP line against Kamailio; and the same as JSON.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { cell as num, mark, meets } from './format.js';

export interface Figure {
  readonly key: string;
  readonly label: string;
  readonly gateway?: number;
  readonly bare?: number;
  /** The least any node server does for this figure, measured in the same slices (handshakes only). */
  readonly floor?: number;
  /** Whether a bigger number is better (throughput) or worse (latency, memory). */
  readonly better: 'higher' | 'lower';
  /** The ratio gateway/bare must be at least (higher) or at most (lower) this; none for a figure shown for information. */
  readonly targetRatio?: number;
  readonly decimals: number;
}

/** What every benchmark's report starts with: when, on which node, with which settings, and its figures. */
export interface RunReport<F> {
  readonly date: string;
  readonly node: string;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly figures: readonly F[];
}

export interface Report extends RunReport<Figure> {
  /** SIP OPTIONS answered per second, by server; Kamailio's measured in the same run (../sip/options-peer.ts). */
  readonly sip: { readonly gateway?: number; readonly kamailio?: number };
  /** The share of the machine's CPU that other processes took during the run (Linux only). */
  readonly foreignCpuShare?: number;
}

function ratioOf(f: Figure): number | undefined {
  return f.gateway !== undefined && f.bare !== undefined && f.bare > 0 ? f.gateway / f.bare : undefined;
}

function floorRatioOf(f: Figure): number | undefined {
  return f.floor !== undefined && f.bare !== undefined && f.bare > 0 ? f.floor / f.bare : undefined;
}

function passes(f: Figure): boolean | undefined {
  const ratio = ratioOf(f);
  if (ratio === undefined || f.targetRatio === undefined) return undefined;
  return meets(ratio, f.targetRatio, f.better);
}

export function toMarkdown(report: Report): string {
  const lines = ['| figure | wsgate | bare ws | ratio | target | node floor | floor / ws |', '|---|---:|---:|---:|---|---:|---:|'];
  for (const f of report.figures) {
    const ratio = ratioOf(f);
    const target =
      f.targetRatio === undefined ? '(information)' : `${f.better === 'higher' ? '≥' : '≤'} ${f.targetRatio.toFixed(2)}${mark(passes(f))}`;
    lines.push(
      `| ${f.label} | ${num(f.gateway, f.decimals)} | ${num(f.bare, f.decimals)} | ${num(ratio, 2)} | ${target} | ` +
        `${num(f.floor, f.decimals)} | ${num(floorRatioOf(f), 2)} |`,
    );
  }
  const k = report.sip.kamailio;
  const vsKamailio = (v: number | undefined) =>
    v === undefined ? '—' : k === undefined ? `${num(v, 0)}/s` : `${num(v, 0)}/s (${num(v / k, 2)} × Kamailio${mark(v > k)})`;
  lines.push(
    '',
    `SIP OPTIONS answered (50 conns × 16 in flight): wsgate ${vsKamailio(report.sip.gateway)}; ` +
      `target: more than Kamailio, measured in this run: ${k === undefined ? '—' : `${num(k, 0)}/s`}.`,
  );
  if (report.foreignCpuShare !== undefined && report.foreignCpuShare > 0.05) {
    lines.push(
      '',
      `Other processes used ${num(report.foreignCpuShare * 100, 0)}% of the machine's CPU during this run: the absolute ` +
        'figures, and so the comparison with Kamailio, are low; the interleaved ratios are fairer but noisier.',
    );
  }
  return lines.join('\n');
}

export function toJson(report: Report): string {
  const figures = report.figures.map((f) => ({ ...f, ratio: ratioOf(f) ?? null, pass: passes(f) ?? null, floorRatio: floorRatioOf(f) ?? null }));
  const { gateway, kamailio } = report.sip;
  const both = gateway !== undefined && kamailio !== undefined && kamailio > 0;
  const sip = {
    ...report.sip,
    kamailio: kamailio ?? null,
    gatewayVsKamailio: both ? gateway / kamailio : null,
    pass: both ? gateway > kamailio : null,
  };
  return JSON.stringify({ ...report, figures, sip }, null, 2) + '\n';
}

export function writeReport(report: Report, file: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, toJson(report));
}
