import { once } from 'node:events';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { runToEnd, startTestGateway, until, type TestGateway } from '@wsgate/test-kit';
import { defineRoutes } from '../script/routes.js';
import { LocalControl } from './local-control.js';
import { startOperations, type Operations } from './operations.js';

const TOKEN = 'test-token-0123456789abcdef';
const routes = defineRoutes({
  'http:request': (req) => (req.isWebSocketUpgrade ? req.handshake({ protocols: ['sip', 'echo'] }) : req.refuse(403, 'test', 'no plain HTTP here')),
  'websocket:message': (conn, data, isBinary) => conn.send(data, { binary: isBinary }),
});

let gw: TestGateway | undefined;
let ops: Operations | undefined;
afterEach(async () => {
  await ops?.close();
  await gw?.close();
  gw = undefined;
  ops = undefined;
});

async function start(): Promise<{ api: string; metrics: string }> {
  gw = await startTestGateway(routes, { management: { port: 0, token: TOKEN }, metrics: { port: 0 } });
  const registry = gw.gateway.metrics.registry;
  ops = await startOperations(gw.gateway.config, new LocalControl(gw.gateway), async () => ({ contentType: registry.contentType, text: await registry.metrics() }));
  return { api: `http://127.0.0.1:${ops.managementPort}`, metrics: `http://127.0.0.1:${ops.metricsPort}/metrics` };
}

function client(url: string, protocol: string): Promise<WebSocket> {
  const ws = new WebSocket(url, protocol);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

const api = (base: string, path: string, init: RequestInit = {}, token = TOKEN) =>
  fetch(base + path, { ...init, headers: { Authorization: `Bearer ${token}`, ...(init.headers ?? {}) } });

describe('management API', () => {
  it('refuses requests without the bearer token, or with a wrong one', async () => {
    const { api: base } = await start();
    const none = await fetch(`${base}/status`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="wsgate"');
    expect((await api(base, '/status', {}, 'wrong-token-wrong-token')).status).toBe(401);
    expect((await api(base, '/status')).status).toBe(200);
  });

  it('lists connections with filters and paging, shows, pings and closes one', async () => {
    const { api: base } = await start();
    const a = await client(gw!.url, 'sip');
    const b = await client(`${gw!.url}/room`, 'echo');
    const c = await client(gw!.url, 'echo');
    await until(() => gw!.gateway.connections.size === 3);
    const all = await (await api(base, '/connections')).json();
    expect(all.total).toBe(3);
    expect(all.connections.map((x: { protocol: string }) => x.protocol)).toEqual(['sip', 'echo', 'echo']);
    const echo = await (await api(base, '/connections?protocol=echo&limit=1&offset=1')).json();
    expect(echo).toMatchObject({ total: 2, offset: 1, limit: 1 });
    expect(echo.connections).toHaveLength(1);
    const idle = await (await api(base, '/connections?idle=3600')).json();
    expect(idle.total).toBe(0);
    const byClient = await (await api(base, '/connections?client=127.0.0.1')).json();
    expect(byClient.total).toBe(3);
    expect((await api(base, '/connections?limit=0')).status).toBe(400);

    const id = all.connections[1].id;
    const one = await (await api(base, `/connections/${id}`)).json();
    expect(one).toMatchObject({ id, protocol: 'echo', path: '/room' });
    const pinged = once(b, 'ping');
    expect((await api(base, `/connections/${id}/ping`, { method: 'POST' })).status).toBe(200);
    await pinged;
    const closed = once(b, 'close');
    const res = await api(base, `/connections/${id}/close`, { method: 'POST', body: JSON.stringify({ code: 4003, reason: 'kicked' }) });
    expect(res.status).toBe(200);
    const [code, reason] = await closed;
    expect(code).toBe(4003);
    expect(String(reason)).toBe('kicked');
    expect((await api(base, `/connections/${id}`)).status).toBe(404);
    expect((await api(base, '/connections/99999/close', { method: 'POST' })).status).toBe(404);
    expect((await api(base, `/connections/${all.connections[0].id}/close`, { method: 'POST', body: '{"code":1006}' })).status).toBe(400);
    expect((await api(base, '/connections/abc')).status).toBe(400);
    expect((await api(base, '/connections', { method: 'DELETE' })).status).toBe(405);
    expect((await api(base, '/nope')).status).toBe(404);
    a.close();
    c.close();
  });

  it('disables new WebSockets with 503 while open ones stay, then enables them', async () => {
    const { api: base } = await start();
    const open = await client(gw!.url, 'echo');
    expect((await api(base, '/websockets/disable', { method: 'POST' })).status).toBe(200);
    expect((await (await api(base, '/status')).json()).websockets).toBe('disabled');
    await expect(client(gw!.url, 'echo')).rejects.toThrow(/503/);
    open.send('still here');
    const [data] = await once(open, 'message');
    expect(String(data)).toBe('still here');
    await api(base, '/websockets/enable', { method: 'POST' });
    const again = await client(gw!.url, 'echo');
    again.close();
    open.close();
  });

  it('says reload is not possible for a gateway not started from a config file', async () => {
    const { api: base } = await start();
    const res = await api(base, '/reload', { method: 'POST' });
    expect(res.status).toBe(422);
    expect((await res.json()).error).toMatch(/not started from a config file/);
  });

  it("shows the process's memory, after a full collection on POST /memory/collect", async () => {
    const { api: base } = await start();
    const now = (await (await api(base, '/memory')).json()) as { processes: Record<string, unknown>[] };
    expect(now.processes).toHaveLength(1);
    expect(now.processes[0]).toMatchObject({ pid: process.pid, collected: false });
    // About 20 MB of garbage: a full collection takes it away.
    let litter: object[] | undefined = Array.from({ length: 300_000 }, (_, i) => ({ i, s: `item ${i}` }));
    const held = process.memoryUsage().heapUsed;
    expect(litter.length).toBe(300_000);
    litter = undefined;
    const collected = (await (await api(base, '/memory/collect', { method: 'POST' })).json()) as { processes: Record<string, number | boolean>[] };
    const after = collected.processes[0]!;
    expect(after.collected).toBe(true);
    expect(after.heapUsed).toBeLessThan(held - 10_000_000);
    expect(after.rssAnon).toBeGreaterThan(0);
    expect(after.rssAnon).toBeLessThanOrEqual(after.rss as number);
    expect(after.youngGeneration).toBeGreaterThan(0);
    expect((await api(base, '/memory/collect')).status).toBe(405);
  });
});

describe('metrics', () => {
  it('counts handshakes, failures by check, refusals, closes and traffic per subprotocol', async () => {
    const { metrics } = await start();
    const ws = await client(gw!.url, 'echo');
    ws.send('12345');
    await once(ws, 'message');
    ws.close(4000);
    await until(() => gw!.gateway.connections.size === 0);
    await expect(client(gw!.url, 'nope')).rejects.toThrow(/400/);
    expect((await fetch(`http://127.0.0.1:${gw!.port}/`)).status).toBe(403);
    const text = await (await fetch(metrics)).text();
    expect(text).toMatch(/^wsgate_handshakes_total\{result="success"\} 1$/m);
    expect(text).toMatch(/^wsgate_handshakes_total\{result="failure"\} 1$/m);
    expect(text).toMatch(/^wsgate_handshake_failures_total\{reason="subprotocol"\} 1$/m);
    expect(text).toMatch(/^wsgate_refusals_total\{by="test",status="403"\} 1$/m);
    expect(text).toMatch(/^wsgate_websocket_closes_total\{by="remote",code="4000"\} 1$/m);
    expect(text).toMatch(/^wsgate_websocket_frames_received_total\{protocol="echo"\} 1$/m);
    expect(text).toMatch(/^wsgate_websocket_bytes_sent_total\{protocol="echo"\} 5$/m);
    expect(text).toMatch(/^wsgate_websocket_connections 0$/m);
    expect(text).toMatch(/^wsgate_websocket_connections_max 1$/m);
    expect(text).toMatch(/^wsgate_requests_total\{listener="[^"]+",route="routes",status="101"\} 1$/m);
    expect(text).toMatch(/^wsgate_request_duration_seconds_count\{kind="handshake"\} 2$/m);
    expect((await fetch(metrics.replace('/metrics', '/other'))).status).toBe(404);
  });
});

describe('wsgate ctl', () => {
  const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
  const ctl = (...args: string[]) => runToEnd(process.execPath, [cli, 'ctl', ...args]);

  it('lists as a table or JSON, closes by id, and says clearly what is wrong', async () => {
    const { api: base } = await start();
    const ws = await client(gw!.url, 'sip');
    await until(() => gw!.gateway.connections.size === 1);
    const table = await ctl('--url', base, '--token', TOKEN, 'list');
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/^ID\s+KIND\s+PROTOCOL\s+REMOTE\s+PATH\s+AGE\s+IDLE\s+IN\s+OUT\n\d+\s+term\s+sip\s+127\.0\.0\.1:\d+\s+\//);
    expect(table.out).toContain('1–1 of 1');
    const json = await ctl('--url', base, '--token', TOKEN, '--json', 'list');
    const id = JSON.parse(json.out).connections[0].id;
    const closing = once(ws, 'close');
    const closed = await ctl('--url', base, '--token', TOKEN, 'close', String(id), '--code', '4001', '--reason', 'bye');
    expect(closed).toMatchObject({ code: 0, out: `closed ${id} with 4001\n` });
    expect((await closing)[0]).toBe(4001);
    const missing = await ctl('--url', base, '--token', TOKEN, 'show', '424242');
    expect(missing.code).toBe(1);
    expect(missing.err).toBe('wsgate: 404: no connection 424242\n');
    const badToken = await ctl('--url', base, '--token', 'x'.repeat(20), 'status');
    expect(badToken.err).toBe('wsgate: 401: wrong bearer token\n');
    const free = net.createServer().listen(0, '127.0.0.1');
    await once(free, 'listening');
    const closedPort = (free.address() as net.AddressInfo).port;
    free.close();
    const down = await ctl('--url', `http://127.0.0.1:${closedPort}`, '--token', TOKEN, 'status');
    expect(down.code).toBe(1);
    expect(down.err).toMatch(new RegExp(`^wsgate: cannot reach the management API at http://127\\.0\\.0\\.1:${closedPort} \\(ECONNREFUSED\\)`));
    const unknown = await ctl('--url', base, '--token', TOKEN, 'frobnicate');
    expect(unknown.err).toMatch(/unknown command "frobnicate"/);
  });
});
