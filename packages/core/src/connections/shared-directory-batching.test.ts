/**
 * The shared directory's batched writes (shared-directory.ts, `FLUSH_TICK_MS`, `FLUSH_WINDOW_MS`), with two
 * gateways in this process on a real redis-server: the opens and closes of a tick go to Redis as one script
 * call; a connection that closes younger than a tick writes nothing; another node lists a connection within
 * the window (and a round trip), and stops listing it once closed; changes made while Redis is out of reach
 * are written when it is back; a gateway stopped with changes pending leaves no entries.
 */
import { once } from 'node:events';
import { createClient } from '@redis/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { RedisServer, sleep, startTestGateway, until, type TestGateway } from '@wsgate/test-kit';
import { defineRoutes } from '../script/routes.js';
import { idHolder } from './node-claim.js';
import { RemoteEntry } from './remote-entry.js';
import { FLUSH_TICK_MS, FLUSH_WINDOW_MS } from './shared-directory.js';

const routes = defineRoutes({ 'http:request': (req) => req.handshake() });
/** Long heartbeats: no heartbeat write falls inside a test's counts. */
const HEARTBEAT = 30;
/** What a listing on another node may take past the window: its own reads and a loaded machine's delays. */
const LISTING_SLACK_MS = 1000;

let redis: RedisServer;
let observer: ReturnType<typeof createClient>;
let a: TestGateway;
let b: TestGateway;
const clients: WebSocket[] = [];

const start = (name: string) => startTestGateway(routes, { store: { redis: { url: redis.url } }, node: { name, heartbeat: HEARTBEAT } });

async function connect(gw: TestGateway): Promise<WebSocket> {
  const ws = new WebSocket(gw.url);
  clients.push(ws);
  await once(ws, 'open');
  return ws;
}

/** The ids of node `holder`'s connections that `gw` lists (another node's: from Redis). */
async function listedOn(gw: TestGateway, holder: string): Promise<number[]> {
  return (await gw.gateway.connections.list()).filter((e) => e instanceof RemoteEntry && e.node === holder).map((e) => e.id);
}

/** The ids of `gw`'s own connections. */
async function localIds(gw: TestGateway): Promise<number[]> {
  return (await gw.gateway.connections.list()).filter((e) => !(e instanceof RemoteEntry)).map((e) => e.id);
}

/** Calls of a command Redis has run (`INFO commandstats`), those made by scripts included. */
async function calls(command: string): Promise<number> {
  const m = new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(await observer.info('commandstats'));
  return Number(m?.[1] ?? 0);
}

beforeAll(async () => {
  redis = await RedisServer.start();
  observer = createClient({ url: redis.url });
  observer.on('error', () => undefined);
  await observer.connect();
  a = await start('a');
  b = await start('b');
  // A first write, so that the script is in Redis's cache before anything is counted.
  const ws = await connect(a);
  await until(async () => (await listedOn(b, 'a')).length === 1, 5000);
  ws.terminate();
  await until(async () => (await listedOn(b, 'a')).length === 0, 5000);
});

afterAll(async () => {
  for (const ws of clients) ws.terminate();
  await Promise.all([a?.close(), b?.close()]);
  await observer?.close();
  await redis?.close();
});

describe('the shared directory batches its writes', () => {
  it(`writes the opens of a window as one script call, listed on another node within ${FLUSH_WINDOW_MS} ms and a round trip`, async () => {
    const before = await calls('evalsha');
    const startedAt = Date.now();
    const opened: WebSocket[] = [];
    // One after another: each open in a turn of its own.
    for (let i = 0; i < 12; i++) opened.push(await connect(a));
    const lastOpen = Date.now();
    await until(async () => (await listedOn(b, 'a')).length === 12, FLUSH_WINDOW_MS + LISTING_SLACK_MS, "a's 12 connections listed on b");
    expect(Date.now() - lastOpen).toBeLessThanOrEqual(FLUSH_WINDOW_MS + LISTING_SLACK_MS);
    // At most one call per tick the opens spanned and the window after the last, not one per open.
    const ticks = Math.ceil((lastOpen - startedAt + FLUSH_WINDOW_MS) / FLUSH_TICK_MS) + 1;
    expect(await calls('evalsha') - before).toBeLessThanOrEqual(ticks);

    for (const ws of opened) ws.close();
    const closedAt = Date.now();
    await until(async () => (await listedOn(b, 'a')).length === 0, FLUSH_WINDOW_MS + LISTING_SLACK_MS + 1000, "a's connections gone from b's listing");
    // Closed within the listing's bound from the last close (the closing handshakes take a round trip each).
    expect(Date.now() - closedAt).toBeLessThanOrEqual(FLUSH_WINDOW_MS + LISTING_SLACK_MS + 1000);
  });

  it('writes nothing for a connection that closes younger than a tick', async () => {
    // How long each lasted on a, from its open to its close as a's directory is told of them.
    const lasted: number[] = [];
    const stop = a.gateway.connections.subscribe({ closed: (entry) => lasted.push(Date.now() - entry.createdAt) });
    const before = (await calls('hset')) + (await calls('hdel'));
    // Date.now() counts whole ms: one that lasted FLUSH_TICK_MS - 1 by it lasted less than a tick.
    const quick = () => lasted.filter((ms) => ms < FLUSH_TICK_MS - 1).length;
    // Five at least; more (20 at most) while none was quick, as on a loaded machine.
    for (let i = 0; i < 20 && (i < 5 || quick() === 0); i++) {
      await sleep(3 * FLUSH_WINDOW_MS);
      const ws = await connect(a);
      ws.terminate();
      await until(() => a.gateway.connections.size === 0, 5000);
    }
    await sleep(3 * FLUSH_WINDOW_MS);
    stop();
    // A slow pair (a loaded machine) may be written: an HSET and an HDEL. A quick one writes nothing.
    expect(quick()).toBeGreaterThan(0);
    expect((await calls('hset')) + (await calls('hdel')) - before).toBeLessThanOrEqual(2 * (lasted.length - quick()));
    expect(await listedOn(b, 'a')).toEqual([]);
  });

  it('writes what changed while Redis was out of reach once it is back', async () => {
    const kept = await connect(a);
    const closedLater = await connect(a);
    const [keptId, closedId] = (await localIds(a));
    await until(async () => (await listedOn(b, 'a')).length === 2, 5000, "a's 2 connections listed on b");
    await redis.stop();
    const openedMeanwhile = await connect(a);
    closedLater.close();
    await until(() => a.gateway.connections.size === 2, 5000);
    const meanwhileId = (await localIds(a)).find((id) => id !== keptId);
    await sleep(3 * FLUSH_WINDOW_MS);
    await redis.resume();
    await until(
      async () => {
        const ids = await b.gateway.connections.list().then((l) => l.map((e) => e.id), () => []);
        return ids.includes(keptId!) && ids.includes(meanwhileId!) && !ids.includes(closedId!);
      },
      10_000,
      'the open made and the close made while Redis was down, written once it is back',
    );
    kept.close();
    openedMeanwhile.close();
    await until(async () => (await listedOn(b, 'a')).length === 0, 5000);
  });

  it('leaves no entries of a gateway stopped with changes pending', async () => {
    const c = await start('c');
    const ws = await connect(c);
    const [entry] = await c.gateway.connections.list();
    const { number } = idHolder(entry!.id);
    expect(number).toBeGreaterThan(0);
    await c.close();
    ws.terminate();
    await sleep(3 * FLUSH_WINDOW_MS);
    expect(await listedOn(b, 'c')).toEqual([]);
    expect(await observer.keys(`*dir:conns:${number}:0`)).toEqual([]);
  });
});
