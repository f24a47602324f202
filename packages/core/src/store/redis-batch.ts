/**
 * The Redis store's batch: the `Store` calls made in one turn of the event loop, sent as ONE script (`BATCH`)
 * that runs them in call order, each with the effect and answer of its own command (./store.ts). A guarded
 * handshake's rate count and token read become one command; under load, the handshakes of a turn share one.
 *
 * Why: node-redis's work per command (its queue entry, promise, RESP encoding and parsing) and Redis's per
 * command dominate the store's cost on the gateway once commands are pipelined; one script for the turn pays
 * them once. The script is atomic as a whole, which is more than each call needs, never less. Its keys may
 * lie in different hash slots: fine on a standalone Redis (or Sentinel); a Cluster store would batch per slot.
 *
 * Wire format: KEYS are the calls' keys in order; ARGV, per call, its code then its arguments:
 * `g` get; `d` delete; `i` by (INCRBY); `I` by ms (increment with a TTL); `s` value ms (set); `a` value ms
 * (add); `r` value ms (raise); `c` has-expected expected has-value value ms (compareAndSet). An empty `ms` is
 * no expiry. The answer is `{answers, failures}`: one answer per call (nil for an absent GET), and for each call
 * that failed its index (from 1) and error text, so that one call's error is its own.
 */
import type { CommandParser } from '@redis/client';
import type { ArrayReply, BlobStringReply, NullReply, NumberReply } from '@redis/client/dist/lib/RESP/types.js';
import { NOT_INTEGER } from './redis-scripts.js';

/** Calls per script at most: a turn with more sends several, so that no one script holds Redis long. */
export const MAX_BATCH = 500;

/** A call waiting for its turn's batch. */
export interface BatchedCall {
  /** The key as the caller gave it (errors name it); `prefixed` is the one sent. */
  readonly key: string;
  readonly prefixed: string;
  /** `g`, `d`, `i`, `I`, `s`, `a`, `r`, `c`: the call, as BATCH reads it. */
  readonly code: string;
  readonly args: readonly string[];
  readonly resolve: (reply: unknown) => void;
  readonly reject: (err: unknown) => void;
}

export const BATCH = {
  SCRIPT: `
local answers, failures, a = {}, {}, 1
local function failed(i, err) failures[#failures + 1] = i; failures[#failures + 1] = err end
local function ttl(ms) if ms == '' then return nil end return ms end
for i, k in ipairs(KEYS) do
  local op = ARGV[a]
  answers[i] = 0
  if op == 'g' then
    local v = redis.pcall('GET', k)
    if type(v) == 'table' and v.err then failed(i, v.err) else answers[i] = v end
    a = a + 1
  elseif op == 'd' then
    answers[i] = redis.call('DEL', k)
    a = a + 1
  elseif op == 'i' or op == 'I' then
    local n = redis.pcall('INCRBY', k, ARGV[a + 1])
    if type(n) == 'table' and n.err then failed(i, '${NOT_INTEGER}')
    else
      if op == 'I' and redis.call('PTTL', k) == -1 then redis.call('PEXPIRE', k, ARGV[a + 2]) end
      answers[i] = n
    end
    a = a + (op == 'I' and 3 or 2)
  elseif op == 's' or op == 'a' then
    local args = {'SET', k, ARGV[a + 1]}
    if op == 'a' then args[#args + 1] = 'NX' end
    local ms = ttl(ARGV[a + 2])
    if ms then args[#args + 1] = 'PX'; args[#args + 1] = ms end
    if redis.call(unpack(args)) then answers[i] = 1 end
    a = a + 3
  elseif op == 'r' then
    local v = redis.pcall('GET', k)
    local c = v and type(v) ~= 'table' and tonumber(v)
    if type(v) == 'table' then failed(i, v.err)
    elseif v and (not c or c ~= math.floor(c)) then failed(i, '${NOT_INTEGER}')
    elseif not (v and c >= tonumber(ARGV[a + 1])) then
      local ms = ttl(ARGV[a + 2])
      if ms then redis.call('SET', k, ARGV[a + 1], 'PX', ms) else redis.call('SET', k, ARGV[a + 1]) end
      answers[i] = 1
    end
    a = a + 3
  elseif op == 'c' then
    local v = redis.pcall('GET', k)
    local same
    if ARGV[a + 1] == '1' then same = (v == ARGV[a + 2]) else same = not v end
    if type(v) == 'table' then failed(i, v.err)
    elseif same then
      if ARGV[a + 3] == '0' then redis.call('DEL', k)
      else
        local ms = ttl(ARGV[a + 5])
        if ms then redis.call('SET', k, ARGV[a + 4], 'PX', ms) else redis.call('SET', k, ARGV[a + 4]) end
      end
      answers[i] = 1
    end
    a = a + 6
  else
    return redis.error_reply('WSGATE_BATCH unknown call code ' .. tostring(op))
  end
end
return {answers, failures}`,
  parseCommand(parser: CommandParser, calls: readonly BatchedCall[]) {
    parser.pushKeysLength(calls.map((c) => c.prefixed));
    for (const call of calls) parser.push(call.code, ...call.args);
  },
  transformReply: undefined as unknown as () => ArrayReply<ArrayReply<BlobStringReply | NumberReply | NullReply> | ArrayReply<NumberReply | BlobStringReply>>,
};

/** Each call's answer (as its own command answers it), or its own error reply's text. */
export function eachAnswer(
  reply: readonly [readonly unknown[], readonly unknown[]],
  calls: readonly BatchedCall[],
  failed: (call: BatchedCall, errorText: string) => unknown,
): void {
  const [answers, failures] = reply;
  const errors = new Map<number, string>();
  for (let f = 0; f + 1 < failures.length; f += 2) errors.set(Number(failures[f]) - 1, String(failures[f + 1]));
  for (let i = 0; i < calls.length; i++) {
    const error = errors.get(i);
    if (error !== undefined) calls[i]!.reject(failed(calls[i]!, error));
    else calls[i]!.resolve(answers[i]);
  }
}
