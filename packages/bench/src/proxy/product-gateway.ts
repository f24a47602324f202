/**
 * The benchmark's wsgate: the product as the README tells users to start it — `wsgate --config wsgate.yaml`
 * (packages/core/dist/cli.js under wsgate's NODE_FLAGS, as its `#!` line starts it), `workers` as configured,
 * and a route script whose only line is `req.proxy(upstream(...))`. Nothing in it is bench-only: what the
 * benchmark reads of the running gateway it reads from the product's management API (`GET /status`) and from
 * /proc (the primary's children are its workers).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS } from '@wsgate/core';
import { freePort, onAllCores, startWsgate, type WsgateProcess } from '@wsgate/test-kit';
import { childPids } from './process-stats.js';

/** The command users run: `wsgate` is `@wsgate/core`'s dist/cli.js (packages/bench/dist/proxy → packages/core). */
const CLI = fileURLToPath(new URL('../../../core/dist/cli.js', import.meta.url));


export interface ProductGatewayOptions {
  readonly upstreamPort: number;
  /** `workers:` in the config: a count or `auto` (one per core the gateway may run on). */
  readonly workers: number | 'auto';
  /** Node flags before cli.js (`--cpu-prof`, …); the cluster's workers inherit them. */
  readonly nodeFlags?: readonly string[];
  /** A second listener, `wss`, with this certificate (PEM files): `tls: { cert, key }` in the config. */
  readonly tls?: { readonly cert: string; readonly key: string };
}

/** What `GET /status` answers (packages/core/src/management/control.ts, `GatewayStatus`). */
export interface GatewayStatus {
  readonly pid: number;
  readonly connections: number;
  readonly workers: number;
}

export class ProductGateway {
  private constructor(
    readonly port: number,
    /** The `wss` listener's port, when `tls` was given. */
    readonly tlsPort: number | undefined,
    /** The cluster primary's pid, as `GET /status` says. */
    readonly primaryPid: number,
    /** The worker count the gateway resolved `workers:` to, as its `listening` line says. */
    readonly workerCount: number,
    private readonly process: WsgateProcess,
    private readonly management: Management,
    private readonly dir: string,
  ) {}

  static async start(options: ProductGatewayOptions): Promise<ProductGateway> {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npx tsc -b)`);
    const dir = mkdtempSync(join(tmpdir(), 'wsgate-bench-proxy-'));
    const port = await freePort();
    const tlsPort = options.tls ? await freePort() : undefined;
    const managementPort = await freePort();
    const token = randomBytes(24).toString('hex');
    writeFileSync(
      join(dir, 'routes.mjs'),
      `import { defineRoutes } from '@wsgate/core';
import { upstream } from '@wsgate/routes';

const backend = upstream('ws://127.0.0.1:${options.upstreamPort}');
export default defineRoutes({ 'http:request': (req) => req.proxy(backend) });
`,
    );
    writeFileSync(join(dir, 'management.token'), token + '\n', { mode: 0o600 });
    // Each line as a user writes it; `log.level: warn` as nginx's access_log is off: no line per connection.
    writeFileSync(
      join(dir, 'wsgate.yaml'),
      `listeners:
  - name: ws
    host: 127.0.0.1
    port: ${port}
${
  options.tls
    ? `  - name: wss
    host: 127.0.0.1
    port: ${tlsPort}
    tls:
      cert: ${JSON.stringify(options.tls.cert)}
      key: ${JSON.stringify(options.tls.key)}
`
    : ''
}script:
  path: ./routes.mjs
workers: ${options.workers}
keepalive:
  mechanism: none
management:
  host: 127.0.0.1
  port: ${managementPort}
  tokenFile: ./management.token
log:
  level: warn
`,
    );
    const [command, ...args] = onAllCores([process.execPath, ...NODE_FLAGS, ...(options.nodeFlags ?? []), CLI, '--config', join(dir, 'wsgate.yaml')]);
    let started: WsgateProcess;
    try {
      started = await startWsgate(command!, args, { cwd: dir, timeoutMs: 30_000, listeners: options.tls ? 2 : 1 });
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    try {
      // The primary logs `listening` once its first worker is ready, and `management` once all are.
      const deadline = Date.now() + 15_000;
      let announced: Record<string, unknown> | undefined;
      while (!(announced = started.lines().find((l) => l.msg === 'management'))) {
        if (Date.now() > deadline || started.child.exitCode !== null) throw new Error(`wsgate: no management line in 15 s: ${JSON.stringify(started.output)}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      const management = { url: String(announced.url), token };
      const workerCount = Number(started.listening[0]?.workers ?? 1);
      const status = await managementGet<GatewayStatus>(management, '/status');
      // `workers: 1` is one process, no cluster (cli.ts).
      const running = workerCount === 1 ? 1 : childPids(status.pid).length;
      if (status.workers !== workerCount || running !== workerCount) {
        throw new Error(`wsgate: ${status.workers} workers ready and ${running} running, ${workerCount} announced`);
      }
      return new ProductGateway(port, tlsPort, status.pid, workerCount, started, management, dir);
    } catch (err) {
      await ProductGateway.end(started, dir);
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

  /** The log lines at warn or above (pino's level ≥ 40) it wrote so far: a clean run has none. */
  warnings(): Record<string, unknown>[] {
    return this.process.lines().filter((l) => Number(l.level) >= 40);
  }

  /** `GET /status` of the management API. */
  status(): Promise<GatewayStatus> {
    return managementGet<GatewayStatus>(this.management, '/status');
  }

  /** SIGTERM to the command's process group (a graceful stop), SIGKILL after 5 s; the temp folder goes too. */
  stop(): Promise<void> {
    return ProductGateway.end(this.process, this.dir);
  }

  private static async end(running: WsgateProcess, dir: string): Promise<void> {
    await running.stop(5000);
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Management {
  readonly url: string;
  readonly token: string;
}

/** A GET of the management API, with its bearer token; an answer other than 2xx throws, naming it. */
async function managementGet<T>(management: Management, path: string): Promise<T> {
  const res = await fetch(management.url + path, { headers: { authorization: `Bearer ${management.token}` }, signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`wsgate management API: GET ${path} answered ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

