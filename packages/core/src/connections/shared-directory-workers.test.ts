/**
 * The shared connection directory with a cluster (`workers: 2`) as one of the nodes, through the `wsgate`
 * command on a real redis-server: the primary's management API lists every connection once (not once per
 * worker), another node lists the same, and closing each through the primary reaches the worker holding it.
 */
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { freePort, RedisServer, startWsgate, until, type WsgateProcess } from '@wsgate/test-kit';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const CORE = pathToFileURL(fileURLToPath(new URL('../../dist/index.js', import.meta.url))).href;
const TOKEN = 'shared-directory-token-0123456789';
const CLIENTS = 6;

let redis: RedisServer;
const running: WsgateProcess[] = [];
const clients: WebSocket[] = [];

async function startNode(dir: string, name: string, host: string, workers: number): Promise<{ api: string; url: string }> {
  const managementPort = await freePort();
  const config = join(dir, `${name}.yaml`);
  writeFileSync(
    config,
    `listeners: [{ host: ${host}, port: 0 }]\nscript: ./routes.mjs\nworkers: ${workers}\nstore: { redis: { url: "${redis.url}" } }\n` +
      `node: { name: ${name}, heartbeat: 0.5 }\nmanagement: { host: 127.0.0.1, port: ${managementPort}, token: ${TOKEN} }\n` +
      'keepalive: { mechanism: none }\nshutdown: { grace: 1 }\n',
  );
  const p = await startWsgate(process.execPath, [CLI, '--config', config], { timeoutMs: 20_000, management: true });
  running.push(p);
  return { api: `http://127.0.0.1:${managementPort}`, url: String(p.listening[0]!.url) };
}

async function api(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; data: any }> {
  const res = await fetch(base + path, {
    method,
    headers: { Authorization: `Bearer ${TOKEN}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, data: await res.json() };
}

let a: { api: string; url: string };
let b: { api: string; url: string };

beforeAll(async () => {
  redis = await RedisServer.start();
  const dir = mkdtempSync(join(tmpdir(), 'wsgate-shared-workers-'));
  writeFileSync(
    join(dir, 'routes.mjs'),
    `import { defineRoutes } from ${JSON.stringify(CORE)};\nexport default defineRoutes({ 'http:request': (req) => req.handshake() });\n`,
  );
  [a, b] = await Promise.all([startNode(dir, 'a', '127.0.0.1', 2), startNode(dir, 'b', '127.0.0.2', 1)]);
}, 40_000);

afterAll(async () => {
  for (const ws of clients) ws.terminate();
  await Promise.all(running.map((p) => p.stop(3000)));
  await redis?.close();
});

describe('a two-worker node in the shared directory', () => {
  it('is listed once per connection on its primary and on another node, and each closes through the primary', async () => {
    for (let i = 0; i < CLIENTS; i++) {
      const ws = new WebSocket(a.url);
      clients.push(ws);
      await once(ws, 'open');
    }
    const ids = async (base: string) => ((await api(base, 'GET', '/connections')).data.connections as Array<{ id: number; node: string }>).map((c) => c.id);
    await until(async () => (await ids(b.api)).length === CLIENTS, 5000, "a's connections listed on b");
    const onA = await ids(a.api);
    expect(onA).toHaveLength(CLIENTS);
    expect(new Set(onA).size).toBe(CLIENTS);
    expect((await ids(b.api)).toSorted()).toEqual(onA.toSorted());
    expect((await api(a.api, 'GET', '/status')).data).toMatchObject({ connections: CLIENTS, workers: 2 });

    const closes = clients.map((ws) => once(ws, 'close').then(([code]) => code as number));
    for (const id of onA) expect((await api(a.api, 'POST', `/connections/${id}/close`, { code: 4003 })).status).toBe(200);
    expect(await Promise.all(closes)).toEqual(Array(CLIENTS).fill(4003));
  });
});
