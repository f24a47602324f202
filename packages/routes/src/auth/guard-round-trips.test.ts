/**
 * Story S2's guard (rate limit, Origin, cookie token) with its counts and tokens in a real redis-server, on
 * real sockets: a handshake costs Redis one round trip, the token's read travelling with the rate count
 * (`allOf` starts it with `Guard.prefetch`), where it cost one round trip per guard; and a token revoked
 * through another store (another node) is refused at once all the same.
 */
import net from 'node:net';
import { RedisStore } from '@wsgate/core';
import { attempt, guardRoutes, RedisServer, startTestGateway, type TestGateway } from '@wsgate/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { origin } from '../access/origin.js';
import { rateLimit } from '../access/rate-limit.js';
import { allOf } from '../kit/guard.js';
import { cookieToken } from './cookie-token.js';
import { memoryTokens, type IssuingTokenStore } from './tokens/memory-tokens.js';

const ORIGIN = 'https://app.example';
let redis: RedisServer;
let gw: TestGateway;
const stores: RedisStore[] = [];
let tokens: IssuingTokenStore;
let elsewhere: IssuingTokenStore;

beforeAll(async () => {
  redis = await RedisServer.start();
  for (let i = 0; i < 2; i++) {
    const store = new RedisStore({ url: redis.url, commandTimeout: 10 });
    await store.connect();
    stores.push(store);
  }
  tokens = memoryTokens({ store: stores[0]! });
  elsewhere = memoryTokens({ store: stores[1]! });
  // The gateway's own store and directory stay in memory: the guard's store is the only Redis client at work.
  gw = await startTestGateway([]);
  gw.gateway.use(
    guardRoutes(
      allOf(
        rateLimit({ handshakes: { limit: 1000 }, store: stores[0]! }),
        origin({ allow: [ORIGIN] }),
        cookieToken({ store: tokens, cookie: 'AUTH' }),
      ),
    ),
  );
});

afterAll(async () => {
  infoSocket?.destroy();
  await gw?.close();
  await Promise.all(stores.map((s) => s.close()));
  await redis?.close();
});

/**
 * Redis's `total_reads_processed`: the reads it made from its clients' sockets, one per round trip, asked on
 * one connection kept open (a connection's end is a read too). Each ask counts its own read.
 */
let infoSocket: net.Socket | undefined;
async function readsProcessed(port: number): Promise<number> {
  if (!infoSocket) {
    infoSocket = net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => infoSocket!.once('connect', resolve).once('error', reject));
  }
  const socket = infoSocket;
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => done(new Error('no INFO answer in 5 s')), 5000);
    const done = (err?: Error) => {
      clearTimeout(timer);
      socket.off('data', onData);
      if (err) return reject(err);
      const m = /total_reads_processed:(\d+)/.exec(text);
      if (m) resolve(Number(m[1]));
      else reject(new Error(`INFO stats without total_reads_processed: ${text.slice(0, 200)}`));
    };
    const onData = (chunk: Buffer) => {
      text += chunk.toString('latin1');
      // A bulk string: `$<length>\r\n<text>\r\n`.
      const head = /^\$(\d+)\r\n/.exec(text);
      if (head && text.length >= head[0].length + Number(head[1]) + 2) done();
    };
    socket.on('data', onData);
    socket.write('INFO stats\r\n');
  });
}

const asked = (token: string) => attempt(gw.url, { headers: { Origin: ORIGIN, Cookie: `AUTH=${token}` } });

describe('S2 guard on a Redis store', () => {
  it('asks Redis once per handshake: the token read goes out with the rate count', async () => {
    const token = await tokens.issue({ subject: 'alice' });
    // The first handshake of a window also reads the window before: not the one measured.
    (await asked(token)).ws?.close();
    const rounds: number[] = [];
    for (let i = 0; i < 3; i++) {
      const before = await readsProcessed(redis.port);
      const answer = await asked(token);
      expect(answer.status).toBe(101);
      answer.ws!.close();
      // One read for the handshake, one for the INFO that counts it.
      rounds.push((await readsProcessed(redis.port)) - before - 1);
    }
    // (One that crosses a window edge also reads the window before, in the same write: still one.)
    expect(rounds).toEqual([1, 1, 1]);
  });

  it('refuses a token revoked through another store at once, and an unknown one', async () => {
    const token = await tokens.issue({ subject: 'bob' });
    const admitted = await asked(token);
    expect(admitted.status).toBe(101);
    admitted.ws!.close();
    await elsewhere.revoke(token);
    expect((await asked(token)).status).toBe(403);
    expect((await asked('x'.repeat(43))).status).toBe(403);
  });
});
