/** Active health checks against real upstreams: fall takes a node out, rise brings it back. */
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { createLogger, type LogFields } from '@wsgate/core';
import { startProxyGateway, startUpstream, until } from '@wsgate/test-kit';
import { upstreams } from '../proxy/pool.js';

function nodeOf(port: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      res.resume();
      resolve(res.headers['x-node'] as string | undefined);
    }).on('error', reject);
  });
}

describe('active health checks', () => {
  it('takes a failing node out after `fall` failed checks and brings it back after `rise` passes', async () => {
    let bHealthy = true;
    const serve = (name: string, healthy: () => boolean) => (req: http.IncomingMessage, res: http.ServerResponse) => {
      if (req.url === '/healthz') {
        res.statusCode = healthy() ? 200 : 503;
        return res.end();
      }
      res.setHeader('X-Node', name);
      res.end(name);
    };
    const a = await startUpstream({ onRequest: serve('a', () => true) });
    const b = await startUpstream({ onRequest: serve('b', () => bHealthy) });
    const logs: LogFields[] = [];
    const pool = upstreams({
      servers: [a.url, b.url],
      healthCheck: { path: '/healthz', interval: 0.05, timeout: 0.5, fall: 2, rise: 2 },
      logger: createLogger({ level: 'debug', write: (l) => void logs.push(JSON.parse(l)) }),
    });
    const gw = await startProxyGateway((req) => req.proxy(pool));
    try {
      const seen = new Set<string | undefined>();
      for (let i = 0; i < 4; i++) seen.add(await nodeOf(gw.port));
      expect(seen).toEqual(new Set(['a', 'b']));

      bHealthy = false;
      await until(() => !pool.status()[1]!.healthy, 2000, 'node b taken out');
      expect(logs.find((l) => l.msg === 'upstream failed its health check; taken out')).toMatchObject({ node: `127.0.0.1:${b.port}`, cause: 'status 503' });
      for (let i = 0; i < 6; i++) expect(await nodeOf(gw.port)).toBe('a');

      bHealthy = true;
      await until(() => pool.status()[1]!.healthy, 2000, 'node b back');
      expect(logs.some((l) => l.msg === 'upstream healthy again')).toBe(true);
      const back = new Set<string | undefined>();
      for (let i = 0; i < 4; i++) back.add(await nodeOf(gw.port));
      expect(back.has('b')).toBe(true);

      // A node that does not even accept connections fails its checks too.
      await b.close();
      await until(() => !pool.status()[1]!.healthy, 2000, 'closed node taken out');
    } finally {
      await pool.close();
      await gw.close();
      await a.close();
    }
  });
});
