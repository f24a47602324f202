/**
 * A real nginx (Debian's `/usr/sbin/nginx`) for tests and the benchmark: a generated config in a temp prefix
 * (`-p`), `daemon off`, the error log, pid and temp files in that folder, stopped with the caller. Runs as
 * root here, so the config says `user root` (workers could not write the temp folder otherwise).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { onAllCores, stopChild } from './children.js';
import { waitForPort } from './wire.js';
import { join } from 'node:path';

export const NGINX = process.env.WSGATE_NGINX ?? '/usr/sbin/nginx';

const live = new Set<ChildProcess>();

/** Kills every nginx started here, at once (a failing or interrupted run). */
export function killNginxes(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

export interface NginxOptions {
  /** The body of the `http {}` block: upstreams and servers. */
  readonly http?: string;
  /** The body of a `stream {}` block, if any. */
  readonly stream?: string;
  /** `worker_processes`: a number or `auto`. Default 1. */
  readonly workers?: number | 'auto';
  /** Ports to wait for before `start()` resolves. */
  readonly waitPorts: readonly number[];
}

export class Nginx {
  private constructor(
    readonly dir: string,
    private readonly child: ChildProcess,
  ) {}

  /** Fails with a message saying how to install nginx when it is missing. */
  static async start(options: NginxOptions): Promise<Nginx> {
    if (!existsSync(NGINX)) throw new Error(`nginx not found at ${NGINX}: install it (apt-get install -y nginx) or set WSGATE_NGINX`);
    const dir = mkdtempSync(join(tmpdir(), 'wsgate-nginx-'));
    writeFileSync(join(dir, 'nginx.conf'), config(dir, options));
    const args = ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')];
    const [command, ...rest] = onAllCores([NGINX, ...args]);
    const child = spawn(command!, rest, { stdio: ['ignore', 'ignore', 'pipe'] });
    live.add(child);
    child.once('exit', () => live.delete(child));
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c));
    const nginx = new Nginx(dir, child);
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`nginx exited (${code}) at start: ${stderr}${nginx.errorLog()}`))),
    );
    try {
      await Promise.race([Promise.all(options.waitPorts.map((p) => waitForPort(p, 10_000, 'nginx'))), exited]);
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
    child.removeAllListeners('exit');
    return nginx;
  }

  get pids(): number[] {
    const master = this.child.pid ?? 0;
    try {
      const children = readFileSync(`/proc/${master}/task/${master}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
      return [master, ...children];
    } catch {
      return [master];
    }
  }

  errorLog(): string {
    try {
      return readFileSync(join(this.dir, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** Fast shutdown (SIGTERM), then SIGKILL if it lingers. */
  stop(): Promise<void> {
    return stopChild(this.child, () => this.child.kill('SIGTERM'));
  }
}

function config(dir: string, o: NginxOptions): string {
  return `user root;
daemon off;
master_process on;
worker_processes ${o.workers ?? 1};
worker_rlimit_nofile 65536;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 32768; multi_accept on; }
${
  o.http === undefined
    ? ''
    : `http {
  access_log off;
  client_body_temp_path ${join(dir, 'client_body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  ${o.http}
}`
}
${o.stream === undefined ? '' : `stream {\n  ${o.stream}\n}`}
`;
}
