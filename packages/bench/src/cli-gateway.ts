/**
 * Every benchmark's wsgate: the product as the README tells users to start it — `wsgate --config wsgate.yaml`
 * (packages/core/dist/cli.js under wsgate's NODE_FLAGS, as its `#!` line starts it), `workers` as configured,
 * and a route script from a file. Nothing in it is bench-only: what a benchmark reads of the running gateway
 * it reads from the product's management API (`GET /status`, `POST /memory/collect`) and from /proc (the
 * primary's children are its workers).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS, withAllocatorEnv, type GatewayStatus, type ProcessMemory } from '@wsgate/core';
import { freePort, onAllCores, startWsgate, type WsgateProcess } from '@wsgate/test-kit';
import { childPids } from './proxy/process-stats.js';

/** The command users run: `wsgate` is `@wsgate/core`'s dist/cli.js (from packages/bench/src and dist alike). */
const CLI = fileURLToPath(new URL('../../core/dist/cli.js', import.meta.url));

/** A route script of the benchmarks, compiled: `scale/guarded-routes.js` is packages/bench/dist/scale/guarded-routes.js. */
export function benchScript(compiled: string): string {
  const file = fileURLToPath(new URL(`../dist/${compiled}`, import.meta.url));
  if (!existsSync(file)) throw new Error(`${file} is missing: build first (npx tsc -b)`);
  return file;
}

export interface CliGatewayOptions {
  /** The `ws` listener's port; default: a free one. */
  readonly port?: number;
  /** `script.path`: an absolute path, or the name of one of `files`. */
  readonly script: string;
  /** `script.options`. */
  readonly scriptOptions?: Readonly<Record<string, unknown>>;
  /** Files written into the gateway's folder before it starts (a route script, say): name → content. */
  readonly files?: Readonly<Record<string, string>>;
  /** `workers:`, a count or `auto` (one per core the gateway may run on); absent: not written (one process). */
  readonly workers?: number | 'auto';
  /** A second listener, `wss`, with this certificate (PEM files): `tls: { cert, key }` in the config. */
  readonly tls?: { readonly cert: string; readonly key: string };
  /** Other sections of the config (`limits`, `keepalive`, `log`, `store`, `node`, `dataDir`…), as a user writes them. */
  readonly config?: Readonly<Record<string, unknown>>;
  /** Node flags before cli.js (`--cpu-prof`, …); the cluster's workers inherit them. */
  readonly nodeFlags?: readonly string[];
  /** The cores it runs on, as `taskset -c` takes them (`1`); default all (the load generator may have pinned this process). */
  readonly cpus?: string;
  /** For the temp folder's name. */
  readonly name?: string;
}

export class CliGateway {
  private constructor(
    readonly port: number,
    /** The `wss` listener's port, when `tls` was given. */
    readonly tlsPort: number | undefined,
    /** The gateway's pid (a cluster's primary), as `GET /status` says. */
    readonly primaryPid: number,
    /** The worker count the gateway resolved `workers:` to, as its `listening` line says. */
    readonly workerCount: number,
    /** The config file it runs with. */
    readonly configFile: string,
    private readonly process: WsgateProcess,
    private readonly management: Management,
    private readonly dir: string,
  ) {}

  static async start(options: CliGatewayOptions): Promise<CliGateway> {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npx tsc -b)`);
    const dir = mkdtempSync(join(tmpdir(), `wsgate-bench-${options.name ?? 'gateway'}-`));
    let started: WsgateProcess;
    let configFile: string;
    let port: number;
    let tlsPort: number | undefined;
    const token = randomBytes(24).toString('hex');
    try {
      port = options.port ?? (await freePort());
      tlsPort = options.tls ? await freePort() : undefined;
      const managementPort = await freePort();
      for (const [name, content] of Object.entries(options.files ?? {})) writeFileSync(join(dir, name), content);
      writeFileSync(join(dir, 'management.token'), token + '\n', { mode: 0o600 });
      configFile = join(dir, 'wsgate.yaml');
      writeFileSync(configFile, configText(options, port, tlsPort, managementPort));
      const node = [process.execPath, ...NODE_FLAGS, ...(options.nodeFlags ?? []), CLI, '--config', configFile];
      const [command, ...args] = options.cpus !== undefined ? ['taskset', '-c', options.cpus, ...node] : onAllCores(node);
      // The primary logs `listening` once its first worker is ready, and `management` once all are.
      // under NODE_FLAGS and ALLOCATOR_ENV, as the `wsgate` command's first line starts it
      const { NODE_PATH: _, ...operatorEnv } = process.env;
      started = await startWsgate(command!, args, { env: withAllocatorEnv(operatorEnv), cwd: dir, timeoutMs: 30_000, listeners: options.tls ? 2 : 1, management: true });
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    try {
      const announced = started.lines().find((l) => l.msg === 'management');
      if (!announced) throw new Error(`wsgate: no management line: ${JSON.stringify(started.output)}`);
      const management = { url: String(announced.url), token };
      const workerCount = Number(started.listening[0]?.workers ?? 1);
      const status = await managementCall<GatewayStatus>(management, 'GET', '/status');
      // `workers: 1` is one process, no cluster (cli.ts).
      const running = workerCount === 1 ? 1 : childPids(status.pid).length;
      if (status.workers !== workerCount || running !== workerCount) {
        throw new Error(`wsgate: ${status.workers} workers ready and ${running} running, ${workerCount} announced`);
      }
      return new CliGateway(port, tlsPort, status.pid, workerCount, configFile, started, management, dir);
    } catch (err) {
      await CliGateway.end(started, dir);
      throw err;
    }
  }

  /** The worker processes: the primary's children, from /proc (with `workers: 1`, the one process). */
  get workerPids(): number[] {
    return this.workerCount === 1 ? [this.primaryPid] : childPids(this.primaryPid);
  }

  /** The primary and its workers. */
  get pids(): number[] {
    return this.workerCount === 1 ? [this.primaryPid] : [this.primaryPid, ...this.workerPids];
  }

  /** The JSON log lines it wrote so far. */
  lines(): Record<string, unknown>[] {
    return this.process.lines();
  }

  /** The log lines at warn or above (pino's level ≥ 40) it wrote so far: a clean run has none. */
  warnings(): Record<string, unknown>[] {
    return this.lines().filter((l) => Number(l.level) >= 40);
  }

  /** `GET /status` of the management API. */
  status(): Promise<GatewayStatus> {
    return managementCall<GatewayStatus>(this.management, 'GET', '/status');
  }

  /** Each process's memory (`GET /memory`); with `collect`, after a full collection in each (`POST /memory/collect`). */
  async memory(collect: boolean): Promise<ProcessMemory[]> {
    const answer = await managementCall<{ processes: ProcessMemory[] }>(this.management, collect ? 'POST' : 'GET', collect ? '/memory/collect' : '/memory');
    return answer.processes;
  }

  /** SIGTERM to the command's process group (a graceful stop), SIGKILL after 5 s; the temp folder goes too. */
  stop(): Promise<void> {
    return CliGateway.end(this.process, this.dir);
  }

  private static async end(running: WsgateProcess, dir: string): Promise<void> {
    await running.stop(5000);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The config file: one section a line (JSON is YAML), the listeners and the management API first. */
function configText(options: CliGatewayOptions, port: number, tlsPort: number | undefined, managementPort: number): string {
  const listeners: object[] = [{ name: 'ws', host: '127.0.0.1', port }];
  if (options.tls) listeners.push({ name: 'wss', host: '127.0.0.1', port: tlsPort, tls: { cert: options.tls.cert, key: options.tls.key } });
  const sections: Record<string, unknown> = {
    listeners,
    script: { path: options.script, ...(options.scriptOptions ? { options: options.scriptOptions } : {}) },
    ...(options.workers !== undefined ? { workers: options.workers } : {}),
    management: { host: '127.0.0.1', port: managementPort, tokenFile: './management.token' },
    ...options.config,
  };
  return Object.entries(sections)
    .map(([key, value]) => `${key}: ${JSON.stringify(value)}`)
    .join('\n')
    .concat('\n');
}

interface Management {
  readonly url: string;
  readonly token: string;
}

/** A call of the management API, with its bearer token; an answer other than 2xx throws, naming it. */
async function managementCall<T>(management: Management, method: 'GET' | 'POST', path: string): Promise<T> {
  const res = await fetch(management.url + path, { method, headers: { authorization: `Bearer ${management.token}` }, signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw new Error(`wsgate management API: ${method} ${path} answered ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}
