/**
 * The directory's write of a turn's opens and closes (./write-records.ts) on a real redis-server: records set,
 * ids deleted and the hash's expiry, in one command, also for more values than Lua's `unpack` returns at once.
 */
import { createClient, defineScript } from '@redis/client';
import { RedisServer } from '@wsgate/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WRITE_RECORDS } from './write-records.js';

let redis: RedisServer;
let client: ReturnType<typeof connect>;
const connect = (url: string) => createClient({ url, scripts: { writeRecords: defineScript(WRITE_RECORDS) } });

beforeAll(async () => {
  redis = await RedisServer.start();
  client = connect(redis.url);
  await client.connect();
});

afterAll(async () => {
  await client?.close();
  await redis?.close();
});

const records = (from: number, to: number): Array<[string, string]> =>
  Array.from({ length: to - from }, (_, i) => [String(from + i), JSON.stringify({ id: from + i })]);

describe('WRITE_RECORDS', () => {
  it('sets the records opened, deletes the ids closed and sets the expiry, as one command', async () => {
    // Loaded into Redis's script cache first (node-redis's first EVALSHA falls back to EVAL).
    await client.writeRecords('h0', 1000, records(1, 2), []);
    const before = await commands();
    await client.writeRecords('h1', 15_000, records(1, 4), []);
    await client.writeRecords('h1', 15_000, records(4, 5), ['1', '2']);
    expect(await client.hGetAll('h1')).toEqual({ '3': '{"id":3}', '4': '{"id":4}' });
    const ttl = await client.pTTL('h1');
    expect(ttl).toBeGreaterThan(14_000);
    expect(ttl).toBeLessThanOrEqual(15_000);
    // Two writes, two commands on the wire (the script's own calls aside), and no MULTI.
    const after = await commands();
    expect((after.evalsha ?? 0) + (after.eval ?? 0) - (before.evalsha ?? 0) - (before.eval ?? 0)).toBe(2);
    expect(after.multi ?? 0).toBe(before.multi ?? 0);
  });

  it('gives a hash that only deletes an expiry too, and writes more values than unpack returns at once', async () => {
    await client.writeRecords('h2', 5_000, [], ['9']);
    expect(await client.exists('h2')).toBe(0);
    // 6000 records are 12000 values: past Lua's 8000 results of one unpack.
    await client.writeRecords('h2', 5_000, records(0, 6000), []);
    expect(await client.hLen('h2')).toBe(6000);
    await client.writeRecords('h2', 5_000, records(6000, 6001), records(0, 5000).map(([id]) => id));
    expect(await client.hLen('h2')).toBe(1001);
    expect(await client.hGet('h2', '5999')).toBe('{"id":5999}');
    expect(await client.pTTL('h2')).toBeGreaterThan(4_000);
  });
});

/** Calls by command name (`INFO commandstats`). */
async function commands(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const m of (await client.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) counts[m[1]!] = Number(m[2]);
  return counts;
}
