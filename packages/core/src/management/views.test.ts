/** What route modules add to operations: their metrics on the metrics listener, their views on the management API and in `wsgate ctl`. */
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { runToEnd, startTestGateway, until, type TestGateway } from '@wsgate/test-kit';
import { WsgateError } from '../errors.js';
import { defineRoutes } from '../script/routes.js';
import { LocalControl } from './local-control.js';
import { startOperations, type Operations } from './operations.js';

const TOKEN = 'views-token-0123456789abcdef';
const routes = defineRoutes({
  'http:request': (req) => req.handshake({ protocols: ['chat'] }),
});

let gw: TestGateway | undefined;
let ops: Operations | undefined;
afterEach(async () => {
  await ops?.close();
  await gw?.close();
  gw = ops = undefined;
});

async function start(): Promise<{ api: string; metrics: string }> {
  gw = await startTestGateway(routes, { management: { port: 0, token: TOKEN }, metrics: { port: 0 } });
  const registry = gw.gateway.metrics.registry;
  ops = await startOperations(gw.gateway.config, new LocalControl(gw.gateway), async () => ({ contentType: registry.contentType, text: await registry.metrics() }));
  return { api: `http://127.0.0.1:${ops.managementPort}`, metrics: `http://127.0.0.1:${ops.metricsPort}/metrics` };
}

const get = async (base: string, path: string) => {
  const res = await fetch(base + path, { headers: { Authorization: `Bearer ${TOKEN}` } });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};

/** A view of the open connections by room (their path), as a module of a chat service would add. */
function addRoomsView(t: TestGateway) {
  return t.gateway.views.add({
    name: 'rooms',
    help: 'chat members by room',
    filters: ['room', 'client'],
    async list(filter) {
      const conns = await t.gateway.connections.list(() => true);
      return conns
        .filter((c) => filter.room === undefined || c.path === `/${filter.room}`)
        .filter((c) => filter.client === undefined || c.remoteAddress === filter.client)
        .map((c) => ({ room: c.path.slice(1), connection: c.id, client: `${c.remoteAddress}:${c.remotePort}`, muted: false }))
        .sort((a, b) => a.connection - b.connection);
    },
  });
}

async function join(room: string): Promise<WebSocket> {
  const ws = new WebSocket(`${gw!.url}/${room}`, 'chat');
  await once(ws, 'open');
  return ws;
}

describe('route metrics', () => {
  it('serves a module’s labelled counters and the gauges it reads at scrape, and keeps counting across a second declaration', async () => {
    const { metrics } = await start();
    let members = 3;
    const sent = gw!.gateway.metrics.counter({ name: 'wsgate_chat_messages_total', help: 'chat messages by kind', labelNames: ['kind'] });
    const joins = gw!.gateway.metrics.counter({ name: 'wsgate_chat_joins_total', help: 'joins' });
    gw!.gateway.metrics.gauge({ name: 'wsgate_chat_members', help: 'members now', read: () => members });
    const byRoom = gw!.gateway.metrics.gauge({
      name: 'wsgate_chat_room_members',
      help: 'members by room',
      labelNames: ['room'],
      read: () => [
        [['lobby'], 2],
        [['ops'], 1],
      ],
    });
    const text = sent.labels('text');
    text.inc();
    text.inc();
    sent.labels('image').inc(5);
    joins.inc();
    let body = await (await fetch(metrics)).text();
    expect(body).toMatch(/^# TYPE wsgate_chat_messages_total counter$/m);
    expect(body).toMatch(/^wsgate_chat_messages_total\{kind="text"\} 2$/m);
    expect(body).toMatch(/^wsgate_chat_messages_total\{kind="image"\} 5$/m);
    expect(body).toMatch(/^wsgate_chat_joins_total 1$/m);
    expect(body).toMatch(/^# TYPE wsgate_chat_members gauge$/m);
    expect(body).toMatch(/^wsgate_chat_members 3$/m);
    expect(body).toMatch(/^wsgate_chat_room_members\{room="lobby"\} 2$/m);
    // The gateway's own metrics are still there.
    expect(body).toMatch(/^wsgate_websocket_connections 0$/m);

    // A reload runs the factory again: the same declaration is the same counter, and the newer reader wins.
    const again = gw!.gateway.metrics.counter({ name: 'wsgate_chat_messages_total', help: 'chat messages by kind', labelNames: ['kind'] });
    again.labels('text').inc();
    const newer = gw!.gateway.metrics.gauge({ name: 'wsgate_chat_members', help: 'members now', read: () => 7 });
    members = 4;
    byRoom.remove();
    body = await (await fetch(metrics)).text();
    expect(body).toMatch(/^wsgate_chat_messages_total\{kind="text"\} 3$/m);
    expect(body).toMatch(/^wsgate_chat_members 7$/m);
    expect(body).not.toMatch(/^wsgate_chat_room_members\{/m);
    newer.remove();
    body = await (await fetch(metrics)).text();
    expect(body).not.toMatch(/^wsgate_chat_members /m);
  });

  it('refuses a bad name, a name the gateway has, another shape under a declared name, and wrong label counts, naming the metric', async () => {
    gw = await startTestGateway(routes);
    const m = gw.gateway.metrics;
    const misuse = (f: () => unknown, text: RegExp) => {
      let thrown: unknown;
      try {
        f();
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(WsgateError);
      expect((thrown as WsgateError).code).toBe('WSGATE_API_MISUSE');
      expect((thrown as Error).message).toMatch(text);
    };
    misuse(() => m.counter({ name: 'sip requests', help: 'x' }), /^metric name "sip requests": use letters, digits and _/);
    misuse(() => m.counter({ name: 'wsgate_websocket_connections', help: 'x' }), /^metric wsgate_websocket_connections: the gateway has a metric of that name already/);
    m.counter({ name: 'wsgate_x_total', help: 'x', labelNames: ['a'] });
    misuse(() => m.counter({ name: 'wsgate_x_total', help: 'x', labelNames: ['b'] }), /^metric wsgate_x_total: declared already as a counter with labels \[a\]/);
    misuse(() => m.gauge({ name: 'wsgate_x_total', help: 'x', labelNames: ['a'], read: () => 1 }), /declared already as a counter/);
    misuse(() => m.counter({ name: 'wsgate_x_total', help: 'x', labelNames: ['a'] }).labels('1', '2'), /^metric wsgate_x_total: 2 label values for the labels \[a\]/);
    misuse(() => m.counter({ name: 'wsgate_x_total', help: 'x', labelNames: ['a'] }).inc(), /has labels \[a\]: count through labels/);
  });
});

describe('management views', () => {
  it('serves a module’s view, filtered and paged; refuses a filter it does not take, naming those it does; 404 names the views', async () => {
    const { api } = await start();
    const view = addRoomsView(gw!);
    const a = await join('lobby');
    const b = await join('lobby');
    const c = await join('ops');
    await until(() => gw!.gateway.connections.size === 3);

    expect((await get(api, '/views')).body).toEqual({ views: [{ name: 'rooms', help: 'chat members by room', filters: ['room', 'client'] }] });
    const all = await get(api, '/views/rooms');
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({ view: 'rooms', total: 3, offset: 0, limit: 100 });
    expect(all.body.rows.map((r: { room: string }) => r.room)).toEqual(['lobby', 'lobby', 'ops']);
    const lobby = await get(api, '/views/rooms?room=lobby&offset=1&limit=5');
    expect(lobby.body).toMatchObject({ total: 2, offset: 1, limit: 5, rows: [{ room: 'lobby' }] });

    const unknown = await get(api, '/views/rooms?floor=3');
    expect(unknown).toEqual({ status: 400, body: { error: 'view rooms has no filter "floor": its filters are room, client' } });
    const twice = await get(api, '/views/rooms?room=a&room=b');
    expect(twice).toEqual({ status: 400, body: { error: 'filter room given twice: give each filter once' } });
    expect(await get(api, '/views/bindings')).toEqual({ status: 404, body: { error: 'no view bindings: the views are rooms' } });

    view.remove();
    expect(await get(api, '/views/rooms')).toEqual({ status: 404, body: { error: 'no view rooms: the route modules mounted add none' } });
    for (const ws of [a, b, c]) ws.close();
  });

  it('keeps the newer view when an older route set removes its own, and refuses names that are ctl commands', async () => {
    gw = await startTestGateway(routes);
    const older = gw.gateway.views.add({ name: 'rooms', help: 'old', filters: [], list: () => [{ v: 1 }] });
    gw.gateway.views.add({ name: 'rooms', help: 'new', filters: [], list: () => [{ v: 2 }] });
    older.remove();
    expect(gw.gateway.views.describe()).toEqual([{ name: 'rooms', help: 'new', filters: [] }]);
    expect(() => gw!.gateway.views.add({ name: 'list', help: 'x', filters: [], list: () => [] })).toThrow(/view name "list": use lower-case letters, digits and -/);
    expect(() => gw!.gateway.views.add({ name: 'a', help: 'x', filters: ['limit'], list: () => [] })).toThrow(/view a: filter "limit"/);
  });
});

describe('wsgate ctl VIEW', () => {
  const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
  const ctl = (...args: string[]) => runToEnd(process.execPath, [cli, 'ctl', ...args]);

  it('prints a view as a table or JSON, takes its filters as options or --filter, and names the allowed filters for another', async () => {
    const { api } = await start();
    addRoomsView(gw!);
    const sockets = [await join('lobby'), await join('ops')];
    await until(() => gw!.gateway.connections.size === 2);
    const base = ['--url', api, '--token', TOKEN];

    const views = await ctl(...base, 'views');
    expect(views).toEqual({ code: 0, out: 'rooms  chat members by room (filters: --room --client)\n', err: '' });
    const table = await ctl(...base, 'rooms');
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/^ROOM\s+CONNECTION\s+CLIENT\s+MUTED\nlobby\s+\d+\s+127\.0\.0\.1:\d+\s+false\nops\s+\d+\s+127\.0\.0\.1:\d+\s+false\n1–2 of 2\n$/);
    const ops1 = await ctl(...base, 'rooms', '--room', 'ops', '--json');
    expect(JSON.parse(ops1.out)).toMatchObject({ view: 'rooms', total: 1, rows: [{ room: 'ops', client: expect.stringMatching(/^127\.0\.0\.1:\d+$/) }] });
    const same = await ctl(...base, 'rooms', '--filter', 'room=ops', '--client=127.0.0.1', '--json');
    expect(JSON.parse(same.out).rows).toEqual(JSON.parse(ops1.out).rows);
    const none = await ctl(...base, 'rooms', '--room', 'attic');
    expect(none).toEqual({ code: 0, out: 'no rooms (total 0)\n', err: '' });

    const bad = await ctl(...base, 'rooms', '--floor', '3');
    expect(bad).toEqual({ code: 1, out: '', err: 'wsgate: 400: view rooms has no filter "floor": its filters are room, client\n' });
    const noValue = await ctl(...base, 'rooms', '--room');
    expect(noValue.err).toBe('wsgate: --room needs a value, such as --room VALUE: run "wsgate ctl --help" for the options\n');
    const unknown = await ctl(...base, 'frobnicate');
    expect(unknown.err).toBe('wsgate: unknown command "frobnicate": run "wsgate ctl --help" for the commands; no view frobnicate: the views are rooms\n');
    // ctl's own commands keep their strict options.
    expect((await ctl(...base, 'list', '--room', 'x')).err).toMatch(/^wsgate: Unknown option '--room'/);
    for (const ws of sockets) ws.close();
  }, 60_000);
});
