/**
 * A real Redis (Debian's `/usr/bin/redis-server`) for tests: on 127.0.0.1 and a free port, nothing saved
 * (`--save '' --appendonly no`), in a temp folder, killed with the caller. A test can stop it, start it again
 * on the same port (a Redis restart, or a Redis that is gone for a while), or freeze it (SIGSTOP: a Redis that
 * keeps its connections but no longer answers).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopChild } from './children.js';
import type { Certificates } from './peers.js';
import { freePort, waitForPort } from './wire.js';

export const REDIS_SERVER = process.env.WSGATE_REDIS_SERVER ?? '/usr/bin/redis-server';

const live = new Set<ChildProcess>();

/** Kills every redis-server started here, at once (a failing or interrupted run). */
export function killRedises(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

export interface RedisServerOptions {
  /** `--requirepass`: clients must give this password. */
  readonly password?: string;
  /** The port; default a free one. */
  readonly port?: number;
  /** TLS only (`--tls-port`, no plain port), with a leaf for 127.0.0.1 made by `makeCertificates()`; clients need not show one. */
  readonly tls?: Certificates;
}

export class RedisServer {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly options: RedisServerOptions,
  ) {}

  /** Fails with a message saying how to install Redis when it is missing. */
  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    if (!existsSync(REDIS_SERVER)) {
      throw new Error(`redis-server not found at ${REDIS_SERVER}: install it (apt-get install -y redis-server) or set WSGATE_REDIS_SERVER`);
    }
    const server = new RedisServer(options.port ?? (await freePort()), mkdtempSync(join(tmpdir(), 'wsgate-redis-')), options);
    await server.resume();
    return server;
  }

  /** `redis://127.0.0.1:PORT` (`rediss://` with TLS), with the password when there is one. */
  get url(): string {
    const auth = this.options.password === undefined ? '' : `:${encodeURIComponent(this.options.password)}@`;
    return `${this.options.tls ? 'rediss' : 'redis'}://${auth}127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Starts the server (again) on its port; resolves once it accepts connections. */
  async resume(): Promise<void> {
    if (this.child) return;
    const args = ['--bind', '127.0.0.1', '--port', String(this.port), '--save', '', '--appendonly', 'no', '--dir', this.dir, '--daemonize', 'no'];
    const tls = this.options.tls;
    if (tls) {
      const file = (name: string) => join(tls.dir, name);
      args.splice(3, 1, '0', '--tls-port', String(this.port), '--tls-cert-file', file('leaf.pem'), '--tls-key-file', file('leaf.key'));
      args.push('--tls-ca-cert-file', tls.caFile, '--tls-auth-clients', 'no');
    }
    if (this.options.password !== undefined) args.push('--requirepass', this.options.password);
    const child = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    this.child = child;
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-4000)));
    child.stderr!.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-4000)));
    child.once('exit', () => {
      live.delete(child);
      if (this.child === child) this.child = undefined;
    });
    const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`redis-server exited (${code}) at start: ${output}`))));
    try {
      await Promise.race([waitForPort(this.port, 10_000, 'redis-server'), exited]);
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
  }

  /** Kills the server (SIGKILL: gone at once, as a crashed Redis); its port is free again. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    await stopChild(child, () => child.kill('SIGKILL'), 1000);
  }

  /** SIGSTOP: connections stay open and nothing answers. `thaw()` lets it go on. */
  freeze(): void {
    this.child?.kill('SIGSTOP');
  }

  thaw(): void {
    this.child?.kill('SIGCONT');
  }

  async close(): Promise<void> {
    this.thaw();
    await this.stop();
  }
}
