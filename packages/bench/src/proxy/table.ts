/**
 * The proxy benchmark's answer: one row per figure (direct, through wsgate, through nginx, through the node relay)
 * with the ratios that matter; a second table against the other peers issue 17 names (the `http-proxy` package,
 * nginx with 16k proxy buffers) on the figures they are measured on; and how the workers shared the load.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { cell, mark, meets } from '../gateway/format.js';
import type { RunReport } from '../gateway/report.js';
import { describeShare, type WorkerShare } from './worker-share.js';

/**
 * `nodeRelay`: the least any node proxy does (node-relay.ts), for what node's sockets cost alone; `httpProxy`: the
 * `http-proxy` package in the same cluster (http-proxy-cluster.ts); `nginxTuned`: nginx with 16k proxy buffers
 * (nginx-proxy.ts, TUNED_BUFFERS), for the throughput figures only.
 */
export type Column = 'direct' | 'wsgate' | 'nginx' | 'nodeRelay' | 'httpProxy' | 'nginxTuned';

/** The sides wsgate is compared with. */
export type Peer = Exclude<Column, 'direct' | 'wsgate'>;

export interface ProxyFigure {
  readonly key: string;
  readonly label: string;
  readonly values: Partial<Record<Column, number>>;
  readonly better: 'higher' | 'lower';
  readonly decimals: number;
  /** Whether wsgate must reach 0.8 of direct on this figure (throughput figures). */
  readonly vsDirect: boolean;
  /** Issue 17's targets for wsgate against each peer, oriented as `vsNginx`. */
  readonly targets: { readonly nginx: number } & Partial<Record<Exclude<Peer, 'nginx'>, number>>;
}

/** The sides that run several workers. */
export type MultiProcess = Exclude<Column, 'direct'>;

export interface ProxyReport extends RunReport<ProxyFigure> {
  /** By figure key: how each side's workers shared that figure's CPU (./worker-share.ts). */
  readonly workerShares: Readonly<Record<string, Partial<Record<MultiProcess, WorkerShare>>>>;
  /** The idle connections each worker held, by side (their sockets, from /proc). */
  readonly connectionsPerWorker: Readonly<Partial<Record<MultiProcess, readonly number[]>>>;
  /** The share of the machine's CPU that other processes took during the run (Linux only). */
  readonly foreignCpuShare?: number;
}

const MASTER: Record<MultiProcess, [string, string]> = {
  wsgate: ['wsgate', 'primary'],
  nginx: ['nginx', 'master'],
  nodeRelay: ['node relay', 'primary'],
  httpProxy: ['http-proxy', 'primary'],
  nginxTuned: ['nginx 16k buffers', 'master'],
};

/** wsgate against `peer`, oriented so that ≥ 1.00 always means "wsgate at least as good". */
function versus(f: ProxyFigure, peer: Peer): number | undefined {
  const { wsgate } = f.values;
  const other = f.values[peer];
  if (wsgate === undefined || other === undefined || wsgate === 0 || other === 0) return undefined;
  return f.better === 'higher' ? wsgate / other : other / wsgate;
}

export const vsNginx = (f: ProxyFigure): number | undefined => versus(f, 'nginx');
export const vsNodeRelay = (f: ProxyFigure): number | undefined => versus(f, 'nodeRelay');
export const vsHttpProxy = (f: ProxyFigure): number | undefined => versus(f, 'httpProxy');
export const vsNginxTuned = (f: ProxyFigure): number | undefined => versus(f, 'nginxTuned');

export function vsDirect(f: ProxyFigure): number | undefined {
  const { wsgate, direct } = f.values;
  if (!f.vsDirect || wsgate === undefined || direct === undefined || direct === 0) return undefined;
  return wsgate / direct;
}

/** The ratio against its target (both oriented so that higher is better), or a dash. */
const verdict = (ratio: number | undefined, target: number) => (ratio === undefined ? '—' : `${ratio.toFixed(2)}${mark(meets(ratio, target, 'higher'))}`);
/** The ratio, its verdict and its target: `0.68 ✗ (≥ 0.75)`. */
const against = (ratio: number | undefined, target: number | undefined) =>
  target === undefined ? (ratio === undefined ? '—' : ratio.toFixed(2)) : `${verdict(ratio, target)} (≥ ${target.toFixed(2)})`;

export function toMarkdown(report: ProxyReport): string {
  const lines = [
    '| figure | direct | wsgate | nginx | node relay | wsgate vs nginx (target) | wsgate vs node relay (target) | wsgate / direct (≥ 0.80) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const f of report.figures) {
    const v = f.values;
    lines.push(
      `| ${f.label} | ${cell(v.direct, f.decimals)} | ${cell(v.wsgate, f.decimals)} | ${cell(v.nginx, f.decimals)} | ${cell(v.nodeRelay, f.decimals)} | ${against(vsNginx(f), f.targets.nginx)} | ${against(vsNodeRelay(f), f.targets.nodeRelay)} | ${verdict(vsDirect(f), 0.8)} |`,
    );
  }
  const others = report.figures.filter((f) => f.values.httpProxy !== undefined || f.values.nginxTuned !== undefined);
  if (others.length > 0) {
    lines.push('', '| figure | wsgate | http-proxy | nginx, 16k proxy buffers | wsgate vs http-proxy (target) | wsgate vs nginx 16k (target) |', '|---|---:|---:|---:|---:|---:|');
    for (const f of others) {
      const v = f.values;
      lines.push(
        `| ${f.label} | ${cell(v.wsgate, f.decimals)} | ${cell(v.httpProxy, f.decimals)} | ${cell(v.nginxTuned, f.decimals)} | ${against(vsHttpProxy(f), f.targets.httpProxy)} | ${against(vsNginxTuned(f), f.targets.nginxTuned)} |`,
      );
    }
  }
  lines.push('', 'Ratios are oriented so that ≥ 1.00 means wsgate is at least as good (for latency and memory: the peer ÷ wsgate); targets are issue 17\'s.');
  lines.push('', 'How the workers share the load — each worker\'s part of the workers\' CPU, from /proc:');
  for (const f of report.figures) {
    const shares = report.workerShares[f.key];
    if (!shares) continue;
    const sides = (Object.keys(MASTER) as MultiProcess[]).filter((s) => shares[s]).map((s) => `${MASTER[s][0]} ${describeShare(shares[s]!, MASTER[s][1])}`);
    lines.push(`- ${f.label}: ${sides.join('; ')}`);
  }
  const held = (Object.keys(MASTER) as MultiProcess[]).filter((s) => report.connectionsPerWorker[s]).map((s) => `${MASTER[s][0]} ${report.connectionsPerWorker[s]!.join(' / ')}`);
  if (held.length > 0) lines.push(`- idle connections held, by worker (their sockets): ${held.join('; ')}`);
  if (report.foreignCpuShare !== undefined) lines.push('', `Other processes took ${(report.foreignCpuShare * 100).toFixed(1)} % of the machine's CPU during the run.`);
  return lines.join('\n');
}

export function writeJson(report: ProxyReport, file: string): void {
  const figures = report.figures.map((f) => ({
    ...f,
    vsNginx: vsNginx(f) ?? null,
    vsNodeRelay: vsNodeRelay(f) ?? null,
    vsHttpProxy: vsHttpProxy(f) ?? null,
    vsNginxTuned: vsNginxTuned(f) ?? null,
    vsDirect: vsDirect(f) ?? null,
  }));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ ...report, figures }, null, 2) + '\n');
}
