/**
 * How a gateway process writes the connections opened and closed in one turn of its event loop to its hash
 * in the shared directory (shared-directory.ts): one Lua script, `HSET` of the records opened, `HDEL` of the
 * ids closed and `PEXPIRE` of the hash, as one step on the server. One command on the wire where
 * `MULTI; HSET; HDEL; PEXPIRE; EXEC` were five: a node writes on every turn that opened or closed a
 * WebSocket, so at the rate of its handshakes. Atomic as the transaction was, so a hash that `HSET` creates
 * never stays without its expiry (a node that dies has its entries gone within the bounded time).
 *
 * node-redis sends it as `EVALSHA` and falls back to `EVAL` on `NOSCRIPT` (after a Redis restart). A plain
 * object here: @redis/client is loaded only when the directory starts.
 */
import type { CommandParser } from '@redis/client';
import type { NumberReply } from '@redis/client/dist/lib/RESP/types.js';

/** Values per `HSET` or `HDEL` call inside the script: Lua's `unpack` has a limit on how many it returns. */
const CHUNK = 1000;

/**
 * KEYS[1] the hash. ARGV: the expiry in ms; the number n of records; n pairs of id and record (JSON); then
 * the ids to delete. Answers 1.
 */
export const WRITE_RECORDS = {
  NUMBER_OF_KEYS: 1,
  SCRIPT: `
local pairsEnd = 2 + 2 * tonumber(ARGV[2])
for i = 3, pairsEnd, ${CHUNK} do redis.call('HSET', KEYS[1], unpack(ARGV, i, math.min(i + ${CHUNK - 1}, pairsEnd))) end
for i = pairsEnd + 1, #ARGV, ${CHUNK} do redis.call('HDEL', KEYS[1], unpack(ARGV, i, math.min(i + ${CHUNK - 1}, #ARGV))) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1`,
  parseCommand(parser: CommandParser, key: string, expiryMs: number, records: ReadonlyArray<readonly [id: string, record: string]>, closed: readonly string[]) {
    parser.pushKey(key);
    parser.push(String(expiryMs), String(records.length));
    for (const [id, record] of records) parser.push(id, record);
    if (closed.length > 0) parser.push(...closed);
  },
  transformReply: undefined as unknown as () => NumberReply<1>,
};
