/**
 * Active health checks (nginx plus `health_check`, HAProxy `check`): every `interval`, a GET of `path` to
 * each node over its own scheme (https for wss/https nodes, with the pool's TLS settings); `fall`
 * consecutive failures take a node out, `rise` consecutive passes bring it back. Transitions are logged.
 */
import http from 'node:http';
import type { Logger } from '@wsgate/core';
import { openUpstreamSocket, type ConnectSettings } from './connect.js';
import type { UpstreamNode } from './node.js';
import type { HealthSettings } from './settings.js';

interface Streak {
  passes: number;
  failures: number;
  running: boolean;
}

export class HealthChecker {
  private timer: NodeJS.Timeout | undefined;
  private readonly streaks = new Map<UpstreamNode, Streak>();
  private readonly inFlight = new Set<http.ClientRequest>();

  constructor(
    private readonly nodes: readonly UpstreamNode[],
    private readonly settings: HealthSettings,
    private readonly connect: ConnectSettings,
    private readonly logger: Logger | undefined,
  ) {
    for (const node of nodes) this.streaks.set(node, { passes: 0, failures: 0, running: false });
  }

  start(): void {
    if (this.timer) return;
    this.checkAll();
    this.timer = setInterval(() => this.checkAll(), this.settings.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const req of this.inFlight) req.destroy();
  }

  private checkAll(): void {
    for (const node of this.nodes) {
      const streak = this.streaks.get(node)!;
      // A check still running (a slow node) is not doubled up.
      if (node.down || streak.running) continue;
      streak.running = true;
      this.check(node).then((result) => {
        streak.running = false;
        if (this.timer !== undefined) this.record(node, streak, result);
      });
    }
  }

  /** One GET; resolves with undefined when it passed, else why not. */
  private check(node: UpstreamNode): Promise<string | undefined> {
    const s = this.settings;
    return new Promise((resolve) => {
      const req = http.request({
        createConnection: () => openUpstreamSocket(node, { ...this.connect, connectTimeoutMs: Math.min(this.connect.connectTimeoutMs, s.timeoutMs) }, { halfOpen: false }),
        method: 'GET',
        path: s.path,
        headers: { Host: s.host ?? node.address.hostHeader, Connection: 'close', 'User-Agent': 'wsgate-health-check' },
        setHost: false,
      });
      this.inFlight.add(req);
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${s.timeoutMs / 1000} s`)), s.timeoutMs);
      const done = (why: string | undefined) => {
        clearTimeout(timer);
        this.inFlight.delete(req);
        req.destroy();
        resolve(why);
      };
      req.on('response', (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        done(s.expect(status) ? undefined : `status ${status}`);
      });
      req.on('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
      req.end();
    });
  }

  private record(node: UpstreamNode, streak: Streak, failure: string | undefined): void {
    if (failure === undefined) {
      streak.failures = 0;
      if (!node.healthy && ++streak.passes >= this.settings.rise) {
        node.healthy = true;
        streak.passes = 0;
        this.logger?.info({ upstream: node.address.label, node: node.name }, 'upstream healthy again');
      }
      return;
    }
    streak.passes = 0;
    if (node.healthy && ++streak.failures >= this.settings.fall) {
      node.healthy = false;
      streak.failures = 0;
      this.logger?.warn({ upstream: node.address.label, node: node.name, cause: failure }, 'upstream failed its health check; taken out');
    }
  }
}
