/** `gateway.connections` as the `ConnectionDirectory` seam: acting on a connection by id, over real sockets. */
import type { Socket } from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { acceptKey } from '@wsgate/handshake';
import { startTestGateway, until, type TestGateway } from '@wsgate/test-kit';
import type { ProxyTarget } from '../request/actions.js';
import { defineRoutes } from '../script/routes.js';
import { isThenable } from '../vocabulary.js';
import type { ConnectionEntry } from './connection-entry.js';
import type { ConnectionDirectory } from './directory.js';

const routes = defineRoutes(
  {
    'http:request'(req) {
      if (req.path === '/tunnel') return req.proxy(tunnel);
      req.set('user', req.query.get('user') ?? 'anonymous');
      return req.handshake({ protocols: ['echo'] });
    },
  },
  'directory',
);

/** A proxied WebSocket stand-in: answers the upgrade itself and is tracked like a real tunnel. */
const tunnel: ProxyTarget = {
  async forward(req, message, carrier) {
    const socket = carrier.socket as Socket;
    const entry = req.track({ protocol: '', close: () => socket.end(), terminate: () => socket.destroy() });
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(String(message.headers['sec-websocket-key']))}\r\n\r\n`);
    socket.once('close', () => entry.ended({ code: 1006, reason: '', by: 'remote' }));
    socket.on('error', () => socket.destroy());
    // Read (and drop) what the client sends, so that its going away is seen; a FIN ends this side too.
    socket.on('end', () => socket.end());
    socket.resume();
    return { status: 101 };
  },
};

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

async function open(path = '/'): Promise<WebSocket> {
  const ws = new WebSocket(`${gw!.url}${path}`, path === '/tunnel' ? [] : ['echo']);
  await once(ws, 'open');
  return ws;
}

/** The one connection whose user attribute is `user`, read through the interface. */
async function byUser(directory: ConnectionDirectory, user: string): Promise<ConnectionEntry> {
  const [entry] = await directory.list((c) => c.get('user') === user);
  return entry!;
}

/** A gateway with one WebSocket of `user` open: the socket, `gateway.connections`, and the connection's id. */
async function connected(user: string): Promise<{ ws: WebSocket; directory: ConnectionDirectory; id: number }> {
  gw = await startTestGateway(routes);
  const ws = await open(`/?user=${user}`);
  await until(() => gw!.gateway.connections.size === 1, 2000, 'connection listed');
  const directory: ConnectionDirectory = gw.gateway.connections;
  const { id } = await byUser(directory, user);
  return { ws, directory, id };
}

describe('gateway.connections, the in-process directory', () => {
  it('send(id) reaches a terminated connection, as text or binary', async () => {
    const { ws, directory, id } = await connected('ann');
    const text = once(ws, 'message');
    expect(directory.send(id, 'hello by id')).toBe(true);
    const [data, isBinary] = await text;
    expect([String(data), isBinary]).toEqual(['hello by id', false]);
    const binary = once(ws, 'message');
    expect(directory.send(id, Buffer.from([1, 2, 3]))).toBe(true);
    const [bytes, binaryFlag] = await binary;
    expect([[...(bytes as Buffer)], binaryFlag]).toEqual([[1, 2, 3], true]);
    // What was sent counts as the connection's traffic.
    expect((await directory.get(id))!.counts()).toMatchObject({ messagesOut: 2, bytesOut: 'hello by id'.length + 3 });
    ws.close();
  });

  it('post(id, topic) hands data to the listener of the topic in the process holding the id, at once; false otherwise', async () => {
    const { ws, directory, id } = await connected('ann');
    const heard: string[] = [];
    expect(directory.post(id, 'sip', 'before anyone listens')).toBe(false);
    const stop = directory.listen('sip', (data) => heard.push(data));
    expect(directory.post(id, 'sip', 'one')).toBe(true);
    expect(directory.post(id, 'other', 'two')).toBe(false);
    expect(directory.post(id + 1000, 'sip', 'three')).toBe(false);
    stop();
    expect(directory.post(id, 'sip', 'four')).toBe(false);
    expect(heard).toEqual(['one']);
    ws.close();
  });

  it('send(id) answers false for an unknown id, a proxied tunnel, and a connection no longer open', async () => {
    gw = await startTestGateway(routes);
    const directory: ConnectionDirectory = gw.gateway.connections;
    expect(directory.send(987654, 'nobody')).toBe(false);
    const proxied = await open('/tunnel');
    await until(() => directory.size === 1, 2000, 'tunnel listed');
    const [entry] = await directory.list();
    expect(entry!.kind).toBe('proxied');
    expect(directory.send(entry!.id, 'into a tunnel')).toBe(false);
    proxied.terminate();
    await until(() => directory.size === 0, 2000, 'tunnel gone');

    const ws = await open('/?user=bob');
    await until(() => directory.size === 1, 2000, 'connection listed');
    const { id } = await byUser(directory, 'bob');
    const closing = once(ws, 'close');
    expect(directory.close(id, 4000, 'bye')).toBe(true);
    // The closing handshake has begun: the connection is still listed, and takes no more messages.
    expect(directory.send(id, 'too late')).toBe(false);
    await closing;
    await until(() => directory.size === 0, 2000, 'connection gone');
    expect(directory.send(id, 'gone')).toBe(false);
  });

  it('ping(id) pings a terminated connection; false for an unknown id', async () => {
    const { ws, directory, id } = await connected('cat');
    const pinged = once(ws, 'ping');
    expect(directory.ping(id)).toBe(true);
    await pinged;
    expect(directory.ping(id + 1000)).toBe(false);
    ws.close();
  });

  it('close(id) of an unknown id answers false and touches nothing', async () => {
    const { ws, directory, id } = await connected('dan');
    expect(directory.close(id + 1000, 4000, 'nobody')).toBe(false);
    expect(directory.get(id + 1000)).toBeUndefined();
    expect(directory.size).toBe(1);
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.close();
  });

  it('answers at once, with plain values: no promise on the in-process path', async () => {
    gw = await startTestGateway(routes);
    await open('/?user=eve');
    await until(() => gw!.gateway.connections.size === 1, 2000, 'connection listed');
    const directory: ConnectionDirectory = gw.gateway.connections;
    const list = directory.list();
    expect(isThenable(list)).toBe(false);
    const id = (list as readonly ConnectionEntry[])[0]!.id;
    for (const answer of [directory.get(id), directory.ping(id), directory.send(id, 'x'), directory.close(id + 1000), directory.close(id)]) {
      expect(isThenable(answer)).toBe(false);
    }
  });

  it('subscribe({ current: true }) tells of the connections already open first, then of later opens and closes', async () => {
    gw = await startTestGateway(routes);
    const first = await open('/?user=fay');
    const tunnelled = await open('/tunnel');
    await until(() => gw!.gateway.connections.size === 2, 2000, 'both listed');
    const events: string[] = [];
    const stop = gw.gateway.connections.subscribe(
      {
        opened: (c) => void events.push(`opened ${c.kind} ${c.get('user') ?? '-'}`),
        closed: (c) => void events.push(`closed ${c.kind} ${c.get('user') ?? '-'}`),
      },
      { current: true },
    );
    expect(events).toEqual(['opened terminated fay', 'opened proxied -']);
    const later = await open('/?user=gus');
    await until(() => events.length === 3, 2000, 'later open told');
    tunnelled.terminate();
    await until(() => events.length === 4, 2000, 'close told');
    expect(events.slice(2)).toEqual(['opened terminated gus', 'closed proxied -']);
    stop();
    first.close();
    later.close();
    await until(() => gw!.gateway.connections.size === 0, 2000, 'all closed');
    expect(events).toHaveLength(4);
  });
});
