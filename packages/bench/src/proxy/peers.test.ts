import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { freePort, startUpstream, type Nginx, type Upstream } from '@wsgate/test-kit';
import { startNginxProxy, TUNED_BUFFERS } from './nginx-proxy.js';
import { parentPid, socketCount } from './process-stats.js';
import { RelayProcess } from './relay-process.js';

/** One WebSocket through `port`: sends `message`, resolves with the open socket once the same bytes came back. */
function echoOnce(port: number, message: string | Buffer): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no echo in 5 s')), 5000);
    ws.once('error', reject);
    ws.once('open', () => ws.send(message));
    ws.once('message', (data: Buffer) => {
      clearTimeout(timer);
      if (Buffer.from(data).equals(Buffer.from(message))) resolve(ws);
      else reject(new Error(`echo differs: ${data.length} bytes`));
    });
  });
}

describe("the proxy bench's other peers start and relay a WebSocket echo (needs a build)", () => {
  let upstream: Upstream;

  beforeAll(async () => {
    upstream = await startUpstream({ name: 'echo' });
  });

  afterAll(async () => {
    await upstream?.close();
  });

  describe('the http-proxy package in a node cluster', () => {
    let side: RelayProcess;

    beforeAll(async () => {
      side = await RelayProcess.startHttpProxy(upstream.port, 2);
    }, 30_000);

    afterAll(async () => {
      await side?.stop();
    });

    it('is a cluster primary with the requested workers', () => {
      expect(side.workerPids).toHaveLength(2);
      for (const pid of side.workerPids) expect(parentPid(pid)).toBe(side.pids[0]);
    });

    it("relays a WebSocket echo to the upstream through its workers' sockets", async () => {
      const before = side.workerPids.map(socketCount);
      const ws = await echoOnce(side.port, 'hello through http-proxy');
      try {
        expect(upstream.sockets.size).toBe(1);
        // Two sockets for the proxied connection, in whichever worker accepted it: the client's and the upstream's.
        const added = side.workerPids.map((pid, i) => socketCount(pid) - before[i]!);
        expect(added.reduce((a, b) => a + b, 0)).toBe(2);
      } finally {
        ws.terminate();
      }
    }, 15_000);

    it('relays a plain HTTP request too', async () => {
      const res = await fetch(`http://127.0.0.1:${side.port}/plain?x=1`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('echo GET /plain?x=1');
    }, 15_000);
  });

  describe('nginx with 16k proxy buffers', () => {
    let nginx: Nginx;
    let port: number;

    beforeAll(async () => {
      port = await freePort();
      nginx = await startNginxProxy(port, upstream.port, undefined, true);
    }, 30_000);

    afterAll(async () => {
      await nginx?.stop();
    });

    it('runs with the tuned buffers in its configuration', () => {
      const config = readFileSync(join(nginx.dir, 'nginx.conf'), 'utf8');
      for (const line of TUNED_BUFFERS) expect(config).toContain(line);
    });

    it('relays a WebSocket echo, small and 64 KiB', async () => {
      const small = await echoOnce(port, 'hello through nginx');
      small.terminate();
      const large = Buffer.alloc(64 * 1024, 7);
      const ws = await echoOnce(port, large);
      ws.terminate();
    }, 15_000);
  });
});
