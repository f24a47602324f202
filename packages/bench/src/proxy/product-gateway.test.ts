import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startUpstream, type Upstream } from '@wsgate/test-kit';
import { parentPid, socketCount } from './process-stats.js';
import { startProxyGateway } from './product-gateway.js';
import type { CliGateway } from '../cli-gateway.js';

describe('the proxy bench runs the product: wsgate --config with workers and a proxy route (needs a build)', () => {
  let upstream: Upstream;
  let gateway: CliGateway;

  beforeAll(async () => {
    upstream = await startUpstream({ name: 'echo' });
    gateway = await startProxyGateway({ upstreamPort: upstream.port, workers: 2 });
  }, 40_000);

  afterAll(async () => {
    await gateway?.stop();
    await upstream?.close();
  });

  it('is a cluster primary with the configured workers, as its management API and /proc say', async () => {
    expect(gateway.workerCount).toBe(2);
    const status = await gateway.status();
    expect(status).toMatchObject({ pid: gateway.primaryPid, workers: 2 });
    expect(gateway.workerPids).toHaveLength(2);
    for (const pid of gateway.workerPids) expect(parentPid(pid)).toBe(gateway.primaryPid);
    // workerPids come from /proc (the primary's children): the management API names the same processes.
    expect((await gateway.memory(false)).map((p) => p.pid).sort()).toEqual([gateway.primaryPid, ...gateway.workerPids].sort());
  });

  it('proxies WebSockets to the upstream; its management API counts them, and /proc finds them in the workers', async () => {
    const count = 40;
    const socketsBefore = gateway.workerPids.map(socketCount);
    const sockets = await Promise.all(
      Array.from({ length: count }, (_, i) => {
        const ws = new WebSocket(`ws://127.0.0.1:${gateway.port}/`);
        return new Promise<WebSocket>((resolve, reject) => {
          ws.once('error', reject);
          ws.once('open', () => ws.send(`hello ${i}`));
          ws.once('message', (data) => (String(data) === `hello ${i}` ? resolve(ws) : reject(new Error(`echo: ${String(data)}`))));
        });
      }),
    );
    try {
      expect(upstream.sockets.size).toBe(count);
      expect((await gateway.status()).connections).toBe(count);
      // Two sockets per proxied connection: the client's and the upstream's.
      const added = gateway.workerPids.map((pid, i) => socketCount(pid) - socketsBefore[i]!);
      expect(added.reduce((a, b) => a + b, 0)).toBe(2 * count);
    } finally {
      for (const ws of sockets) ws.terminate();
    }
  }, 20_000);
});
