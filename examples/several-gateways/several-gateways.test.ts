/**
 * Several gateways behind HAProxy (issue 15.5 and 15.7), with real components on loopback: the README's
 * *Running several gateways* commands run as written — redis-server, three `wsgate` nodes started by the CLI
 * from a.yaml, b.yaml, c.yaml (127.0.0.1, .2, .3, `store.redis`, `node.name`, `proxyProtocol: true`), and
 * Debian's haproxy in TCP mode with `send-proxy` from haproxy.cfg, the same file the README shows — on copies
 * whose ports are free ones. ws clients from addresses of their own connect through HAProxy; `wsgate ctl` on
 * every node lists them with those addresses; a connection HAProxy gave node a is closed from node c; a
 * client's handshakes are counted across the nodes.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { freePort, startWsgate, stopChild, until, waitForPort, type WsgateProcess } from '@wsgate/test-kit';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '../..');
const HAPROXY = '/usr/sbin/haproxy';
const NODES = ['a', 'b', 'c'] as const;
const HOSTS = { a: '127.0.0.1', b: '127.0.0.2', c: '127.0.0.3' } as const;

const readme = readFileSync(join(root, 'README.md'), 'utf8');
const start = readme.indexOf('## Running several gateways');
const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
/** The section's fenced block of `lang`. */
const block = (lang: string) => new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(section)?.[1];

/** Replaces `from` by `to` in `text`, failing when `from` is not there `count` times: the copies must follow the files. */
function swap(text: string, from: string, to: string, count: number): string {
  expect({ from, found: text.split(from).length - 1 }).toEqual({ from, found: count });
  return text.replaceAll(from, to);
}

const ports = { redis: 0, haproxy: 0, listener: 0, metrics: 0, management: 0 };
let dir: string;
const configs: Record<string, string> = {};
const background: ChildProcess[] = [];
const gateways: WsgateProcess[] = [];
const clients: WebSocket[] = [];
let firstList = '';

function ctl(node: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [join(root, 'scripts/wsgate.mjs'), 'ctl', '--config', configs[node]!, ...args], { cwd: root, encoding: 'utf8', timeout: 20_000 });
}

interface Row {
  readonly id: string;
  readonly node: string;
  readonly user: string;
  readonly remote: string;
}
/** The rows of `ctl list` on `node`. */
function listed(node: string): Row[] {
  const run = ctl(node, 'list');
  expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
  return [...run.stdout.matchAll(/^(\d+)\s+(\S+)\s+(\S+)\s+term\s+chat\s+(\S+)/gm)].map((m) => ({ id: m[1]!, node: m[2]!, user: m[3]!, remote: m[4]! }));
}

/** A WebSocket through HAProxy from `from` (a loopback address of the client's own). */
function through(from: string, user: string): Promise<{ status: number; ws?: WebSocket }> {
  const ws = new WebSocket(`ws://127.0.0.1:${ports.haproxy}/?user=${user}`, 'chat', { localAddress: from, handshakeTimeout: 5000 });
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      clients.push(ws);
      resolve({ status: 101, ws });
    });
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0 });
    });
    ws.once('error', reject);
  });
}

const localPort = (ws: WebSocket) => (ws as unknown as { _socket: net.Socket })._socket.localPort;

async function refusals(node: string): Promise<number> {
  const text = await (await fetch(`http://${HOSTS[node as keyof typeof HOSTS]}:${ports.metrics}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const line = text.split('\n').find((l) => l.startsWith('wsgate_refusals_total{by="rate-limit",status="429"}'));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

beforeAll(async () => {
  for (const key of Object.keys(ports) as (keyof typeof ports)[]) ports[key] = await freePort();
  dir = mkdtempSync(join(tmpdir(), 'wsgate-several-'));

  // The README shows haproxy.cfg as it is in the example: one file, not two copies that could drift.
  const cfg = readFileSync(join(here, 'haproxy.cfg'), 'utf8');
  expect(block('haproxy')).toBe(cfg);
  let copy = swap(cfg, 'bind 127.0.0.1:8000', `bind 127.0.0.1:${ports.haproxy}`, 1);
  copy = swap(copy, ':8001\n', `:${ports.listener}\n`, 3);
  copy = swap(copy, 'port 9101', `port ${ports.metrics}`, 1);
  configs.haproxy = join(dir, 'haproxy.cfg');
  writeFileSync(configs.haproxy, copy);
  for (const node of NODES) {
    let yaml = readFileSync(join(here, `${node}.yaml`), 'utf8');
    yaml = swap(yaml, 'port: 8001', `port: ${ports.listener}`, 1);
    yaml = swap(yaml, 'port: 9101', `port: ${ports.metrics}`, 1);
    yaml = swap(yaml, 'port: 9190', `port: ${ports.management}`, 1);
    yaml = swap(yaml, 'redis://127.0.0.1:6380', `redis://127.0.0.1:${ports.redis}`, 1);
    yaml = swap(yaml, 'path: ./routes.ts', `path: ${join(here, 'routes.ts')}`, 1);
    yaml = swap(yaml, `dataDir: .wsgate/${node}`, `dataDir: ${join(dir, '.wsgate', node)}`, 1);
    configs[node] = join(dir, `${node}.yaml`);
    writeFileSync(configs[node]!, yaml);
  }

  const commands = block('sh')!
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter(Boolean);
  expect(commands).toHaveLength(6);
  for (const command of commands) {
    let local = command.replace('--port 6380', `--port ${ports.redis}`);
    for (const name of ['a.yaml', 'b.yaml', 'c.yaml', 'haproxy.cfg']) local = local.replace(`examples/several-gateways/${name}`, join(dir, name));
    if (!local.endsWith('&')) {
      const run = spawnSync('sh', ['-c', local], { cwd: root, encoding: 'utf8', timeout: 30_000 });
      expect({ command, status: run.status, stderr: run.stderr }).toMatchObject({ status: 0, stderr: '' });
      firstList = run.stdout;
      continue;
    }
    const line = local.slice(0, -1).trim();
    if (line.startsWith('npx wsgate')) {
      gateways.push(await startWsgate('sh', ['-c', `exec ${line}`], { cwd: root, timeoutMs: 30_000, management: true }));
      continue;
    }
    // redis-server and haproxy in the foreground, each in a process group of its own.
    const child = spawn('sh', ['-c', `exec ${line}`], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c));
    background.push(child);
    const port = line.startsWith('redis-server') ? ports.redis : ports.haproxy;
    await Promise.race([
      waitForPort(port, 10_000, line.split(' ')[0]!),
      once(child, 'exit').then(() => {
        throw new Error(`${command} exited: ${stderr}`);
      }),
    ]);
  }
}, 120_000);

afterAll(async () => {
  for (const ws of clients) ws.terminate();
  // haproxy first, then the gateways, then Redis: nothing logs a lost peer that is about to go anyway.
  const [redis, ...rest] = background;
  await Promise.all(rest.map((child) => stopChild(child, () => process.kill(-child.pid!, 'SIGTERM'), 3000)));
  await Promise.all(gateways.map((g) => g.stop(3000)));
  if (redis) await stopChild(redis, () => process.kill(-redis.pid!, 'SIGTERM'), 3000);
});

describe('three gateways behind HAProxy (TCP, PROXY protocol), sharing a Redis', () => {
  it("ran the README's commands: the last one listed no connections yet", () => {
    expect(haproxyIsDebians()).toBe(true);
    expect(firstList).toBe('no connections (total 0)\n');
  });

  it('lists on every node the clients HAProxy spread over a, b and c, each with its own address from the PROXY preface', async () => {
    const opened = await Promise.all(['127.0.0.11', '127.0.0.12', '127.0.0.13'].map(async (from, i) => ({ from, ws: (await through(from, `user${i}`)).ws! })));
    const expected = opened.map(({ from, ws }) => `${from}:${localPort(ws)}`).sort();
    for (const node of NODES) {
      let rows: Row[] = [];
      await until(() => (rows = listed(node).filter((r) => r.user.startsWith('user'))).length === 3, 10_000, `three clients listed on ${node}`);
      expect(rows.map((r) => r.remote).sort()).toEqual(expected);
      expect(rows.map((r) => r.node).sort()).toEqual(['a', 'b', 'c']);
    }
  });

  it('closes from node c a connection HAProxy gave node a', async () => {
    const onA = listed('c').find((r) => r.node === 'a' && r.user.startsWith('user'))!;
    const ws = clients.find((c) => onA.remote.endsWith(`:${localPort(c)}`))!;
    expect(ws).toBeDefined();
    const closed = once(ws, 'close');
    const run = ctl('c', 'close', onA.id, '--code', '4000', '--reason', 'closed from c');
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
    const [code, reason] = await closed;
    expect([code, String(reason)]).toEqual([4000, 'closed from c']);
    await until(() => !listed('b').some((r) => r.id === onA.id), 10_000, 'the closed connection gone from b');
  });

  it("counts a client's handshakes across the nodes: the 21st in a minute is refused (429) by whichever node gets it", async () => {
    const limit = 20;
    expect(readFileSync(configs.a!, 'utf8')).toContain(`handshakesPerMinute: ${limit}`);
    const before = await Promise.all(NODES.map(refusals));
    for (let i = 0; i < limit; i++) {
      const { status, ws } = await through('127.0.0.20', 'counted');
      expect({ attempt: i + 1, status }).toEqual({ attempt: i + 1, status: 101 });
      ws!.close();
    }
    // Round robin: three more attempts reach a, b and c, one each, and each refuses.
    for (let i = 0; i < 3; i++) expect((await through('127.0.0.20', 'counted')).status).toBe(429);
    const after = await Promise.all(NODES.map(refusals));
    expect(after.map((n, i) => n - before[i]!)).toEqual([1, 1, 1]);
    // Another client is counted apart.
    expect((await through('127.0.0.21', 'other')).status).toBe(101);
  });
});

function haproxyIsDebians(): boolean {
  return spawnSync(HAPROXY, ['-v'], { encoding: 'utf8' }).stdout.startsWith('HAProxy version 2.');
}
