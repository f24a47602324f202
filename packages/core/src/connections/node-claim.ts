/**
 * A node's number in the shared connection directory, leased in Redis: what makes connection ids unique
 * across gateways while they stay numbers (shared-directory.ts says why numbers).
 *
 * An id is `node × 10¹² + worker × 10⁹ + n`: the node number (1…999) is leased by name, so a node's workers
 * share it and a node restarted within the lease gets its number back; the worker part is the cluster's
 * (`WORKER_ID_SPAN`). Ids stay below 10¹⁵, within the management API's 15 digits and far within a double.
 */

/** Connection ids of node number k start at k × this. */
export const NODE_ID_SPAN = 1_000_000_000_000;
/** Connection ids of worker k start at k × this (within the node's span): ids tell their worker, in a cluster too. */
export const WORKER_ID_SPAN = 1_000_000_000;
/** Node numbers run 1…MAX_NODES. */
export const MAX_NODES = 999;

/** What `CLAIM_NODE` answers. */
export type ClaimAnswer =
  /** `fresh`: this process's lease was not in Redis (the first claim, or Redis lost its data). */
  | { readonly kind: 'claimed'; readonly number: number; readonly fresh: boolean }
  /** Every number is leased: more than MAX_NODES node names live in this Redis. */
  | { readonly kind: 'full' }
  /** The process slot (number and worker) is held by another live instance: the same node name twice. */
  | { readonly kind: 'taken'; readonly number: number }
  /** The number this process had is now another node's (Redis lost its data and a new node took it). */
  | { readonly kind: 'lost'; readonly holder: string };

/**
 * One step on the server, so two nodes starting at once cannot take the same number. ARGV: the key prefix,
 * the node name, this process's instance id, its worker, the lease in ms, the number it holds (0: none yet),
 * MAX_NODES, and `1` to take the process slot over from a dead instance. Keys: `slot:<k>` → name,
 * `node:<name>` → k, `member:<k>:<worker>` → instance, all leased; `members`, the set of `<k>:<worker>`.
 * (Keys made inside the script: Redis standalone or Sentinel, not Cluster.)
 */
export const CLAIM_NODE = `
local p, name, instance, worker, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local n = tonumber(ARGV[6])
if n ~= 0 then
  local holder = redis.call('GET', p..'slot:'..n)
  if holder and holder ~= name then return {-3, holder} end
else
  n = tonumber(redis.call('GET', p..'node:'..name) or '0')
  if n ~= 0 and (redis.call('GET', p..'slot:'..n) or name) ~= name then n = 0 end
  if n == 0 then
    for i = 1, tonumber(ARGV[7]) do
      if redis.call('SET', p..'slot:'..i, name, 'NX', 'PX', ttl) then n = i break end
    end
    if n == 0 then return {-1} end
  end
end
local member = p..'member:'..n..':'..worker
local held = redis.call('GET', member)
if held and held ~= instance and ARGV[8] ~= '1' then return {-2, n} end
redis.call('SET', p..'slot:'..n, name, 'PX', ttl)
redis.call('SET', p..'node:'..name, n, 'PX', ttl)
redis.call('SET', member, instance, 'PX', ttl)
redis.call('SADD', p..'members', n..':'..worker)
if held then return {n, 0} end
return {n, 1}`;

/** The node number (0: none, a node that numbered it before reaching Redis) and worker an id was numbered by. */
export function idHolder(id: number): { readonly number: number; readonly worker: number } {
  return { number: Math.floor(id / NODE_ID_SPAN), worker: Math.floor((id % NODE_ID_SPAN) / WORKER_ID_SPAN) };
}

export function claimAnswer(reply: unknown): ClaimAnswer {
  const [code, detail] = reply as [number, number | string | undefined];
  if (code > 0) return { kind: 'claimed', number: code, fresh: detail === 1 };
  if (code === -1) return { kind: 'full' };
  if (code === -2) return { kind: 'taken', number: Number(detail) };
  return { kind: 'lost', holder: String(detail) };
}
