/**
 * A gateway with `store.redis` on a real redis-server: its store and its connection directory send their
 * commands on one connection (RedisStore.connection()), so that a turn's store calls and directory writes
 * leave in one write to Redis; pub/sub has the only other one. A WebSocket's record is written on it, and the
 * gateway's close lets both go. Started degraded (Redis not there yet), the directory joins on that connection
 * once Redis is reached.
 */
import { createClient } from '@redis/client';
import { freePort, RedisServer, startTestGateway, until, type TestGateway } from '@wsgate/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { defineRoutes } from '../script/routes.js';

let redis: RedisServer;
let observer: ReturnType<typeof createClient>;

beforeAll(async () => {
  redis = await RedisServer.start();
  observer = createClient({ url: redis.url });
  await observer.connect();
});

afterAll(async () => {
  await observer?.close();
  await redis?.close();
});

/** The other clients' connections: their last command by connection, the observer's own left out. */
async function connections(): Promise<string[]> {
  const list = String(await observer.sendCommand(['CLIENT', 'LIST']));
  const own = String(await observer.sendCommand(['CLIENT', 'ID']));
  return list
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith(`id=${own} `))
    .map((line) => /\bcmd=(\S+)/.exec(line)?.[1] ?? '?');
}

describe('a gateway on Redis', () => {
  let gw: TestGateway | undefined;
  afterAll(() => gw?.close());

  it("has its store and its directory on one connection, pub/sub on another, and lets both go at close", async () => {
    gw = await startTestGateway(defineRoutes({ 'http:request': (req) => req.handshake() }), { store: { redis: { url: redis.url } }, node: { name: 'one' } });
    // Before: the store's, the directory's and pub/sub's.
    expect(await connections()).toHaveLength(2);
    await gw.gateway.store.set('k', 'v');
    const ws = new WebSocket(gw.url);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    // The record, written on the store's connection: still two.
    await until(async () => (await observer.hLen('wsgate:dir:conns:1:0')) === 1, 5000, 'the WebSocket record in Redis');
    // And the command it last ran is the record's write (its script), on the connection that is not pub/sub's.
    const cmds = await connections();
    expect(cmds).toHaveLength(2);
    expect(cmds.filter((cmd) => cmd !== 'subscribe')).toEqual([expect.stringMatching(/^eval(sha)?$/)]);
    ws.close();
    await gw.close();
    gw = undefined;
    await until(async () => (await connections()).length === 0, 5000, 'the gateway\'s connections to Redis closed');
  });

  it('started degraded, joins the directory on the store\'s connection once Redis is reached', async () => {
    const port = await freePort();
    const routes = defineRoutes({ 'http:request': (req) => req.handshake() });
    gw = await startTestGateway(routes, {
      store: { redis: { url: `redis://127.0.0.1:${port}`, onUnavailable: 'degraded', connectTimeout: 0.5 } },
      node: { name: 'late', heartbeat: 0.5 },
    });
    const late = await RedisServer.start({ port });
    const lateObserver = createClient({ url: late.url });
    try {
      await lateObserver.connect();
      const ws = new WebSocket(gw.url);
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      await until(async () => (await lateObserver.keys('wsgate:dir:conns:*')).length === 1, 10_000, 'the directory to write the record once Redis is there');
      const [key] = await lateObserver.keys('wsgate:dir:conns:*');
      expect(await lateObserver.hLen(key!)).toBe(1);
      expect(String(await lateObserver.sendCommand(['CLIENT', 'LIST'])).trim().split('\n')).toHaveLength(3);
      ws.close();
    } finally {
      await gw.close();
      gw = undefined;
      await lateObserver.close();
      await late.close();
    }
  });
});
