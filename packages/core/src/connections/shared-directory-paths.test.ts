/**
 * The shared connection directory's paths, in one process with two gateways on a real redis-server: this
 * process's connections answered at once (no promise, no Redis), another node's through Redis; binary
 * messages across nodes; ids unique across nodes; a node name used twice refused; a node restarted takes its
 * number back.
 */
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { RedisServer, startTestGateway, until, type TestGateway } from '@wsgate/test-kit';
import { ConfigError, resolveConfig } from '../config/load.js';
import { defineRoutes } from '../script/routes.js';
import { isThenable } from '../vocabulary.js';
import { NODE_ID_SPAN } from './node-claim.js';
import { RemoteEntry } from './remote-entry.js';

const routes = defineRoutes({ 'http:request': (req) => req.handshake() });
let redis: RedisServer;
let a: TestGateway;
let b: TestGateway;
const clients: WebSocket[] = [];

const start = (name: string) => startTestGateway(routes, { store: { redis: { url: redis.url } }, node: { name, heartbeat: 0.5 } });

async function connect(gw: TestGateway): Promise<WebSocket> {
  const ws = new WebSocket(gw.url);
  clients.push(ws);
  await once(ws, 'open');
  return ws;
}

beforeAll(async () => {
  redis = await RedisServer.start();
  a = await start('a');
  b = await start('b');
});

afterAll(async () => {
  for (const ws of clients) ws.terminate();
  await Promise.all([a?.close(), b?.close()]);
  await redis?.close();
});

describe('the shared connection directory, in one process', () => {
  it("answers this process's connections at once, and another node's through a promise", async () => {
    const ws = await connect(a);
    await until(() => a.gateway.connections.size === 1);
    const [entry] = (await a.gateway.connections.list()) as Array<{ id: number }>;
    const id = entry!.id;
    // Ids carry the node number: a's and b's can never meet.
    expect(id).toBeGreaterThan(NODE_ID_SPAN);

    const got = a.gateway.connections.get(id);
    expect(isThenable(got)).toBe(false);
    const sent = a.gateway.connections.send(id, 'local');
    expect(sent).toBe(true);
    expect(String((await once(ws, 'message'))[0])).toBe('local');

    const remote = b.gateway.connections.get(id);
    expect(isThenable(remote)).toBe(true);
    expect(await remote).toMatchObject({ id, kind: 'terminated', remoteAddress: '127.0.0.1' });
    // Listening first: the message may come before b's answer does.
    let arrived = once(ws, 'message');
    const viaB = b.gateway.connections.send(id, Buffer.from([0, 1, 2, 255]));
    expect(isThenable(viaB)).toBe(true);
    expect(await viaB).toBe(true);
    const [data, binary] = await arrived;
    expect([Buffer.from(data as Buffer), binary]).toEqual([Buffer.from([0, 1, 2, 255]), true]);
    arrived = once(ws, 'message');
    expect(await b.gateway.connections.send(id, Buffer.from('as text'), { binary: false })).toBe(true);
    const [text, isBinary] = await arrived;
    expect([String(text), isBinary]).toEqual(['as text', false]);

    // An id of a that a does not hold: answered by a at once, and by b through a (false).
    expect(a.gateway.connections.close(id + 1)).toBe(false);
    expect(await b.gateway.connections.close(id + 1)).toBe(false);
    ws.close();
  });

  it('names each bad node field and what to give', () => {
    let error: unknown;
    try {
      resolveConfig({ listeners: [{ port: 1 }], node: { name: 'a b', heartbeat: 0, colour: 1 } }, '.');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(Object.fromEntries((error as ConfigError).details.map((d) => [d.path, d.message]))).toEqual({
      'node.colour': 'unknown field (known: name, heartbeat)',
      'node.name': 'must be a node name of 1 to 64 letters, digits, ".", "_" or "-", such as gw-a, got "a b"',
      'node.heartbeat': 'must be a number of seconds, more than 0 and at most 3600, got 0',
    });
  });

  it('refuses a second live gateway with the same node name, naming the fix', async () => {
    await expect(start('a')).rejects.toThrow(/another live gateway is node "a" \(worker 0\) in Redis at redis:\/\/127\.0\.0\.1:\d+: give each gateway its own node\.name/);
  });

  it('gives a node restarted within its lease its number back', async () => {
    const [before] = await Promise.all([connect(b), until(() => b.gateway.connections.size === 1)]);
    // b's own (a's closed one may still be listed: the directory writes a close within its flush window).
    const [old] = (await b.gateway.connections.list()).filter((e) => !(e instanceof RemoteEntry));
    before.terminate();
    await b.close();
    b = await start('b');
    await connect(b);
    await until(() => b.gateway.connections.size === 1);
    const [fresh] = (await b.gateway.connections.list()).filter((e) => !(e instanceof RemoteEntry));
    expect(Math.floor(fresh!.id / NODE_ID_SPAN)).toBe(Math.floor(old!.id / NODE_ID_SPAN));
  });
});
