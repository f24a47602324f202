/**
 * The Lua scripts behind the `Store` methods that are more than one Redis command (./store.ts says which),
 * when called alone in their turn (calls made together go as one `BATCH` script, ./redis-batch.ts).
 * A script runs as one step on the server, so two gateways racing on a key cannot both win. node-redis sends
 * them as `EVALSHA <sha1>` (the SHA1 computed once, by `defineScript` when the client is made) and falls back
 * to `EVAL` on `NOSCRIPT`, which loads the script into the server's cache for the next call (after a Redis
 * restart, a failover, `SCRIPT FLUSH`). Plain objects here: @redis/client is loaded only when a Redis store
 * connects.
 *
 * Arguments are strings; an empty TTL argument means no expiry. A stored value that is not an integer makes
 * `RAISE` answer the error `WSGATE_NOT_INTEGER`, which ./redis-store.ts turns into the same error as
 * MemoryStore's.
 */
import type { CommandParser } from '@redis/client';
import type { NumberReply } from '@redis/client/dist/lib/RESP/types.js';

/** The reply error a script gives for a value that is not an integer; also what INCRBY's error is mapped to. */
export const NOT_INTEGER = 'WSGATE_NOT_INTEGER';

/** `raise(key, value, ttl)`: KEYS[1] the key; ARGV the value and the TTL in ms (empty: none). 1 when raised. */
export const RAISE = {
  NUMBER_OF_KEYS: 1,
  SCRIPT: `
local v = redis.call('GET', KEYS[1])
if v then
  local c = tonumber(v)
  if not c or c ~= math.floor(c) then return redis.error_reply('${NOT_INTEGER}') end
  if c >= tonumber(ARGV[1]) then return 0 end
end
if ARGV[2] == '' then redis.call('SET', KEYS[1], ARGV[1]) else redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
return 1`,
  parseCommand(parser: CommandParser, key: string, value: string, ms: string) {
    parser.pushKey(key);
    parser.push(value, ms);
  },
  transformReply: undefined as unknown as () => NumberReply<0 | 1>,
};

/**
 * `compareAndSet(key, expected, value, ttl)`: KEYS[1] the key; ARGV: `1` and the expected value, or `0` and
 * an empty string (expected absent); `1` and the new value, or `0` and an empty string (delete); the TTL in ms
 * (empty: none). 1 when it set or deleted. (Redis's nil is `false` in Lua, never equal to a string.)
 */
export const COMPARE_AND_SET = {
  NUMBER_OF_KEYS: 1,
  SCRIPT: `
local v = redis.call('GET', KEYS[1])
if ARGV[1] == '1' then
  if v ~= ARGV[2] then return 0 end
elseif v then return 0 end
if ARGV[3] == '0' then redis.call('DEL', KEYS[1])
elseif ARGV[5] == '' then redis.call('SET', KEYS[1], ARGV[4])
else redis.call('SET', KEYS[1], ARGV[4], 'PX', ARGV[5]) end
return 1`,
  parseCommand(parser: CommandParser, key: string, expected: string | undefined, value: string | undefined, ms: string) {
    parser.pushKey(key);
    parser.push(expected === undefined ? '0' : '1', expected ?? '', value === undefined ? '0' : '1', value ?? '', ms);
  },
  transformReply: undefined as unknown as () => NumberReply<0 | 1>,
};

/**
 * `increment(key, by, ttl)` with a TTL: KEYS[1] the key; ARGV the amount and the TTL in ms. The new count;
 * the expiry is set only on a counter that has none (a fixed window). One command where MULTI/INCRBY/PEXPIRE
 * NX/EXEC are four: the rate limit runs it on every handshake.
 */
export const INCREMENT = {
  NUMBER_OF_KEYS: 1,
  SCRIPT: `
local n = redis.pcall('INCRBY', KEYS[1], ARGV[1])
if type(n) == 'table' and n.err then return redis.error_reply('${NOT_INTEGER}') end
if redis.call('PTTL', KEYS[1]) == -1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return n`,
  parseCommand(parser: CommandParser, key: string, by: string, ms: string) {
    parser.pushKey(key);
    parser.push(by, ms);
  },
  transformReply: undefined as unknown as () => NumberReply<number>,
};
