/**
 * One gateway of the scale benchmark, started as the README tells users: `wsgate --config wsgate.yaml`
 * (packages/core/dist/cli.js under wsgate's NODE_FLAGS), one process (`workers: 1`), a route script from this
 * folder with its `script.options`, and `store: { redis: { url } }` with `node: { name }` when it shares a
 * Redis. Its pid comes from the management API (`GET /status`), for its CPU time from /proc.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS } from '@wsgate/core';
import { freePort, onAllCores, startWsgate, type WsgateProcess } from '@wsgate/test-kit';

/** The command users run: `wsgate` is `@wsgate/core`'s dist/cli.js (packages/bench/dist/scale → packages/core). */
const CLI = fileURLToPath(new URL('../../../core/dist/cli.js', import.meta.url));


export interface CliGatewayOptions {
  /** A route script of this folder, by its compiled name (`guarded-routes.js`): run from packages/bench/dist/scale. */
  readonly script: string;
  /** Its `script.options`. */
  readonly options: Readonly<Record<string, unknown>>;
  /** `store.redis.url`; absent: the memory store. */
  readonly redisUrl?: string;
  /** `node.name` (with `redisUrl`). */
  readonly node?: string;
}

export class CliGateway {
  private constructor(
    readonly port: number,
    /** The gateway's pid, as `GET /status` says. */
    readonly pid: number,
    private readonly process: WsgateProcess,
    private readonly dir: string,
  ) {}

  static async start(options: CliGatewayOptions): Promise<CliGateway> {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npx tsc -b)`);
    // From src/scale (tests) and dist/scale alike.
    const script = fileURLToPath(new URL(`../../dist/scale/${options.script}`, import.meta.url));
    if (!existsSync(script)) throw new Error(`${script} is missing: build first (npx tsc -b)`);
    const dir = mkdtempSync(join(tmpdir(), 'wsgate-bench-scale-'));
    const port = await freePort();
    const managementPort = await freePort();
    const token = randomBytes(24).toString('hex');
    writeFileSync(join(dir, 'management.token'), token + '\n', { mode: 0o600 });
    // JSON is YAML: the options as the script gets them. `log.level: warn`: no line per connection.
    const lines = [
      `listeners: [{ name: ws, host: 127.0.0.1, port: ${port} }]`,
      `script: { path: ${JSON.stringify(script)}, options: ${JSON.stringify(options.options)} }`,
      'keepalive: { mechanism: none }',
      `management: { host: 127.0.0.1, port: ${managementPort}, tokenFile: ./management.token }`,
      'log: { level: warn }',
    ];
    if (options.redisUrl !== undefined) lines.push(`store: { redis: { url: ${JSON.stringify(options.redisUrl)} } }`);
    if (options.node !== undefined) lines.push(`node: { name: ${options.node} }`);
    writeFileSync(join(dir, 'wsgate.yaml'), lines.join('\n') + '\n');
    const [command, ...args] = onAllCores([process.execPath, ...NODE_FLAGS, CLI, '--config', join(dir, 'wsgate.yaml')]);
    let started: WsgateProcess;
    try {
      started = await startWsgate(command!, args, { cwd: dir, timeoutMs: 30_000 });
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    try {
      // `management` is announced after `listening` (process/serve.ts).
      const deadline = Date.now() + 15_000;
      while (!started.lines().some((l) => l.msg === 'management')) {
        if (Date.now() > deadline || started.child.exitCode !== null) throw new Error(`wsgate: no management line in 15 s: ${JSON.stringify(started.output)}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      const res = await fetch(`http://127.0.0.1:${managementPort}/status`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
      if (!res.ok) throw new Error(`wsgate management API: GET /status answered ${res.status} ${await res.text()}`);
      const { pid } = (await res.json()) as { pid: number };
      return new CliGateway(port, pid, started, dir);
    } catch (err) {
      await CliGateway.end(started, dir);
      throw err;
    }
  }

  /** The log lines at warn or above it wrote so far: a clean run has none. */
  warnings(): Record<string, unknown>[] {
    return this.process.lines().filter((l) => Number(l.level) >= 40);
  }

  stop(): Promise<void> {
    return CliGateway.end(this.process, this.dir);
  }

  private static async end(running: WsgateProcess, dir: string): Promise<void> {
    await running.stop(5000);
    rmSync(dir, { recursive: true, force: true });
  }
}

