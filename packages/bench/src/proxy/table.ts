/** The proxy benchmark's answer: one row per figure (direct, through wsgate, through nginx, through the node relay) with the two ratios that matter. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { cell, mark, meets } from '../gateway/format.js';
import type { RunReport } from '../gateway/report.js';

/** `nodeRelay`: the least any node proxy does (proxy-server.ts), for what node's sockets cost alone. */
export type Column = 'direct' | 'wsgate' | 'nginx' | 'nodeRelay';

export interface ProxyFigure {
  readonly key: string;
  readonly label: string;
  readonly values: Partial<Record<Column, number>>;
  readonly better: 'higher' | 'lower';
  readonly decimals: number;
  /** Whether wsgate must reach 0.8 of direct on this figure (throughput figures). */
  readonly vsDirect: boolean;
}

export type ProxyReport = RunReport<ProxyFigure>;

/** wsgate against nginx, oriented so that ≥ 1.00 always means "wsgate at least as good". */
export function vsNginx(f: ProxyFigure): number | undefined {
  const { wsgate, nginx } = f.values;
  if (wsgate === undefined || nginx === undefined || wsgate === 0 || nginx === 0) return undefined;
  return f.better === 'higher' ? wsgate / nginx : nginx / wsgate;
}

export function vsDirect(f: ProxyFigure): number | undefined {
  const { wsgate, direct } = f.values;
  if (!f.vsDirect || wsgate === undefined || direct === undefined || direct === 0) return undefined;
  return wsgate / direct;
}

/** The ratio against its target (both oriented so that higher is better), or a dash. */
const verdict = (ratio: number | undefined, target: number) => (ratio === undefined ? '—' : `${ratio.toFixed(2)}${mark(meets(ratio, target, 'higher'))}`);

export function toMarkdown(report: ProxyReport): string {
  const lines = ['| figure | direct | wsgate | nginx | node relay | wsgate vs nginx (≥ 1.00) | wsgate / direct (≥ 0.80) |', '|---|---:|---:|---:|---:|---:|---:|'];
  for (const f of report.figures) {
    const v = f.values;
    lines.push(`| ${f.label} | ${cell(v.direct, f.decimals)} | ${cell(v.wsgate, f.decimals)} | ${cell(v.nginx, f.decimals)} | ${cell(v.nodeRelay, f.decimals)} | ${verdict(vsNginx(f), 1)} | ${verdict(vsDirect(f), 0.8)} |`);
  }
  return lines.join('\n');
}

export function writeJson(report: ProxyReport, file: string): void {
  const figures = report.figures.map((f) => ({ ...f, vsNginx: vsNginx(f) ?? null, vsDirect: vsDirect(f) ?? null }));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ ...report, figures }, null, 2) + '\n');
}
