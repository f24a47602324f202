/** The proxy benchmark's answer: one row per figure — direct, through wsgate, through nginx — with the two ratios that matter. */
import { writeFileSync } from 'node:fs';

export type Column = 'direct' | 'wsgate' | 'nginx';

export interface ProxyFigure {
  readonly key: string;
  readonly label: string;
  readonly values: Partial<Record<Column, number>>;
  readonly better: 'higher' | 'lower';
  readonly decimals: number;
  /** Whether wsgate must reach 0.8 of direct on this figure (throughput figures). */
  readonly vsDirect: boolean;
}

export interface ProxyReport {
  readonly date: string;
  readonly node: string;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly figures: readonly ProxyFigure[];
}

const num = (v: number | undefined, d: number) => (v === undefined ? '—' : v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }));

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

const mark = (ratio: number | undefined, target: number) => (ratio === undefined ? '—' : `${ratio.toFixed(2)} ${ratio >= target ? '✓' : '✗'}`);

export function toMarkdown(report: ProxyReport): string {
  const lines = ['| figure | direct | wsgate | nginx | wsgate vs nginx (≥ 1.00) | wsgate / direct (≥ 0.80) |', '|---|---:|---:|---:|---:|---:|'];
  for (const f of report.figures) {
    const v = f.values;
    lines.push(`| ${f.label} | ${num(v.direct, f.decimals)} | ${num(v.wsgate, f.decimals)} | ${num(v.nginx, f.decimals)} | ${mark(vsNginx(f), 1)} | ${mark(vsDirect(f), 0.8)} |`);
  }
  return lines.join('\n');
}

export function writeJson(report: ProxyReport, file: string): void {
  const figures = report.figures.map((f) => ({ ...f, vsNginx: vsNginx(f) ?? null, vsDirect: vsDirect(f) ?? null }));
  writeFileSync(file, JSON.stringify({ ...report, figures }, null, 2) + '\n');
}
