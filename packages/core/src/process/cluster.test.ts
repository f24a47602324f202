/** `workers: 2` through the real `wsgate` command: shared listeners, aggregated metrics and management, a dead worker replaced. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { freePort, until } from '@wsgate/test-kit';
import { ALLOCATOR_ENV } from './node-flags.js';

const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const core = pathToFileURL(fileURLToPath(new URL('../../dist/index.js', import.meta.url))).href;
const TOKEN = 'cluster-token-0123456789';


let child: ChildProcess | undefined;
afterEach(() => {
  if (child?.pid) {
    try {
      execFileSync('pkill', ['-KILL', '-P', String(child.pid)]);
    } catch {
      // no children left
    }
  }
  child?.kill('SIGKILL');
  child = undefined;
});

async function open(port: number): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}`, 'echo');
  await once(ws, 'open');
  return ws;
}

describe('cluster', () => {
  it('shares the listener across workers, aggregates metrics and management, replaces a dead worker, reloads and stops them all', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsgate-cluster-'));
    const [port, metricsPort, mgmtPort] = [await freePort(), await freePort(), await freePort()];
    writeFileSync(
      join(dir, 'routes.mjs'),
      `import { defineRoutes } from ${JSON.stringify(core)};
export default defineRoutes({
  'http:request': (req) => (req.isWebSocketUpgrade ? req.handshake({ protocols: ['echo'] }) : req.next()),
  'websocket:message': (conn, data) => conn.send(String(process.pid) + ':' + data),
});
`,
    );
    writeFileSync(
      join(dir, 'wsgate.yaml'),
      `listeners: [{ port: ${port} }]\nscript: ./routes.mjs\nworkers: 2\nmetrics: { port: ${metricsPort} }\nmanagement: { port: ${mgmtPort}, token: ${TOKEN} }\nkeepalive: { mechanism: none }\nshutdown: { grace: 1 }\n`,
    );
    const { MALLOC_TRIM_THRESHOLD_: _unset, ...env } = process.env;
    child = spawn(process.execPath, [cli, '--config', join(dir, 'wsgate.yaml')], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c));
    child.stderr!.on('data', (c: Buffer) => (out += c));
    await until(() => out.includes('"msg":"management"'), 20_000, `start, got: ${out}`);
    expect(out.match(/"msg":"listening"/g)).toHaveLength(1);

    // Both workers accept on the shared socket (SCHED_NONE: the kernel wakes one of them per connection, so a
    // few connections may all land on one): batches of 6 at once until both have answered, 5 batches at most.
    const clients: WebSocket[] = [];
    const pids = new Set<string>();
    for (let batch = 0; batch < 5 && pids.size < 2; batch++) {
      const opened = await Promise.all(Array.from({ length: 6 }, () => open(port)));
      clients.push(...opened);
      for (const ws of opened) {
        ws.send('hi');
        const [data] = await once(ws, 'message');
        pids.add(String(data).split(':')[0]!);
      }
    }
    expect(pids.size).toBe(2);
    const n = clients.length;

    const auth = { headers: { Authorization: `Bearer ${TOKEN}` } };
    const status = await (await fetch(`http://127.0.0.1:${mgmtPort}/status`, auth)).json();
    expect(status).toMatchObject({ workers: 2, connections: n, websockets: 'enabled' });
    const list = await (await fetch(`http://127.0.0.1:${mgmtPort}/connections?limit=4`, auth)).json();
    expect(list.total).toBe(n);
    expect(list.connections).toHaveLength(4);
    const ids: number[] = list.connections.map((c: { id: number }) => c.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    // Close one on the second worker by id, through the primary.
    const onSecond = (await (await fetch(`http://127.0.0.1:${mgmtPort}/connections?limit=1000`, auth)).json()).connections.find(
      (c: { id: number }) => c.id >= 2_000_000_000,
    );
    const closed = await fetch(`http://127.0.0.1:${mgmtPort}/connections/${onSecond.id}/close`, { ...auth, method: 'POST', body: '{"code":4002}' });
    expect(closed.status).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`^wsgate_handshakes_total\\{result="success"\\} ${n}$`, 'm'));

    // SIGHUP reloads every worker; open WebSockets stay.
    child.kill('SIGHUP');
    await until(() => out.includes('"workers":2,"msg":"reloaded"'), 10_000, 'reload');
    expect(clients.filter((ws) => ws.readyState === WebSocket.OPEN)).toHaveLength(n - 1);

    // A worker killed outright is logged and replaced; the listener keeps serving.
    const workerPids = execFileSync('pgrep', ['-P', String(child.pid)]).toString().trim().split('\n');
    expect(workerPids).toHaveLength(2);
    // Each worker starts with the allocator's setting (node-flags.ts), though the primary was started without it.
    for (const pid of workerPids) expect(readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0')).toContain(`MALLOC_TRIM_THRESHOLD_=${ALLOCATOR_ENV.MALLOC_TRIM_THRESHOLD_}`);
    process.kill(Number(workerPids[0]), 'SIGKILL');
    await until(() => out.includes('worker died; starting a new one'), 5000, 'death logged');
    await until(() => execFileSync('pgrep', ['-P', String(child!.pid)]).toString().trim().split('\n').length === 2, 10_000, 'replacement');
    let after: { workers?: number } = {};
    for (let i = 0; i < 100 && after.workers !== 2; i++) {
      await new Promise((r) => setTimeout(r, 50));
      after = await (await fetch(`http://127.0.0.1:${mgmtPort}/status`, auth)).json();
    }
    expect(after.workers).toBe(2);
    const fresh = await open(port);
    fresh.send('again');
    expect(String((await once(fresh, 'message'))[0])).toMatch(/^\d+:again$/);

    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    expect((await exited)[0]).toBe(0);
    expect(() => execFileSync('pgrep', ['-P', String(child!.pid)])).toThrow();
  });
});
