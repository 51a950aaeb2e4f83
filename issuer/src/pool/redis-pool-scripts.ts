/**
 * The Lua scripts of the Redis pool store: each operation is one script, so it is atomic for
 * every client of the same Redis. All scripts take the same four keys:
 *
 * - `alive`   sorted set token → purge deadline (ms): every token of the pool is in it;
 * - `avail`   set of the available tokens, for an O(1) random pick (SPOP);
 * - `lease`   sorted set token → assignment deadline (ms), assigned tokens only;
 * - `holders` hash token → holder.
 *
 * The caller passes the time (ARGV[1], ms): scripts never read Redis TIME, so one injected
 * clock drives both stores. Every script answers a JSON object with the deadlines it applied.
 */

const PRELUDE = `
local alive, avail, lease, holders = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now = tonumber(ARGV[1])
local released, purged = {}, {}

local function drop(t)
  local h = redis.call('HGET', holders, t)
  redis.call('ZREM', alive, t)
  redis.call('SREM', avail, t)
  redis.call('ZREM', lease, t)
  redis.call('HDEL', holders, t)
  return h
end

local function purge(t)
  purged[#purged + 1] = { t, drop(t) }
end

local function release(t)
  local h = redis.call('HGET', holders, t)
  redis.call('ZREM', lease, t)
  redis.call('HDEL', holders, t)
  redis.call('SADD', avail, t)
  released[#released + 1] = { t, h }
end

-- Applies the due deadlines of one token; false when it is not (or no longer) in the pool.
local function settle(t)
  local a = redis.call('ZSCORE', alive, t)
  if not a then return false end
  if tonumber(a) <= now then purge(t) return false end
  local l = redis.call('ZSCORE', lease, t)
  if l and tonumber(l) <= now then release(t) end
  return true
end

-- At most limit due purges and limit due releases, earliest first; true if limit was reached.
local function sweep(limit)
  local due = redis.call('ZRANGEBYSCORE', alive, '-inf', now, 'LIMIT', 0, limit)
  for _, t in ipairs(due) do purge(t) end
  local more = #due >= limit
  due = redis.call('ZRANGEBYSCORE', lease, '-inf', now, 'LIMIT', 0, limit)
  for _, t in ipairs(due) do release(t) end
  return more or #due >= limit
end

local function view(t)
  local h = redis.call('HGET', holders, t)
  local l = redis.call('ZSCORE', lease, t)
  return { token = t, holder = h, assignedUntil = l and tonumber(l) or false,
           aliveUntil = tonumber(redis.call('ZSCORE', alive, t)) }
end

local function reply(result)
  result.released = released
  result.purged = purged
  return cjson.encode(result)
end
`;

/** ARGV: now, maxTokens, keepAliveMs, lazyLimit, token... */
const ADD_TOKENS = `
sweep(tonumber(ARGV[4]))
local size = redis.call('ZCARD', alive)
if size + #ARGV - 4 > tonumber(ARGV[2]) then return reply({ ok = false, reason = 'pool_full' }) end
local seen = {}
for i = 5, #ARGV do
  if seen[ARGV[i]] or redis.call('ZSCORE', alive, ARGV[i]) then return reply({ ok = false, reason = 'duplicate' }) end
  seen[ARGV[i]] = true
end
local deadline = now + tonumber(ARGV[3])
for i = 5, #ARGV do
  redis.call('ZADD', alive, deadline, ARGV[i])
  redis.call('SADD', avail, ARGV[i])
end
return reply({ ok = true, value = { size = size + #ARGV - 4 } })
`;

/** ARGV: now, holder, assignTtlMs, keepAliveMs, lazyLimit, maxPicks */
const ASSIGN = `
sweep(tonumber(ARGV[5]))
for _ = 1, tonumber(ARGV[6]) do
  local t = redis.call('SPOP', avail)
  if not t then break end
  local a = tonumber(redis.call('ZSCORE', alive, t) or '0')
  if a > now then
    redis.call('ZADD', lease, now + tonumber(ARGV[3]), t)
    redis.call('HSET', holders, t, ARGV[2])
    redis.call('ZADD', alive, 'GT', now + tonumber(ARGV[4]), t)
    return reply({ ok = true, value = view(t) })
  end
  if a > 0 then purge(t) end
end
return reply({ ok = false, reason = 'pool_empty' })
`;

/** ARGV: now, token, actorSub, actorIsAdmin ('1' or '0') */
const UNBLOCK = `
local t = ARGV[2]
if not settle(t) then return reply({ ok = false, reason = 'not_found' }) end
local h = redis.call('HGET', holders, t)
if not h then return reply({ ok = false, reason = 'not_assigned' }) end
if h ~= ARGV[3] and ARGV[4] ~= '1' then return reply({ ok = false, reason = 'forbidden' }) end
redis.call('ZREM', lease, t)
redis.call('HDEL', holders, t)
redis.call('SADD', avail, t)
return reply({ ok = true, value = { token = view(t), holder = h } })
`;

/** ARGV: now, token, actorSub, actorIsAdmin, keepAliveMs, assignTtlMs */
const KEEP_ALIVE = `
local t = ARGV[2]
if not settle(t) then return reply({ ok = false, reason = 'not_found' }) end
local h = redis.call('HGET', holders, t)
if h and h ~= ARGV[3] and ARGV[4] ~= '1' then return reply({ ok = false, reason = 'forbidden' }) end
redis.call('ZADD', alive, 'GT', now + tonumber(ARGV[5]), t)
if h then redis.call('ZADD', lease, 'GT', now + tonumber(ARGV[6]), t) end
return reply({ ok = true, value = view(t) })
`;

/** ARGV: now, token */
const REMOVE = `
local t = ARGV[2]
if not settle(t) then return reply({ ok = false, reason = 'not_found' }) end
return reply({ ok = true, value = { holder = drop(t) } })
`;

/** ARGV: now, token. Reads only: a lapsed lease shows as available but is not released here. */
const GET_TOKEN = `
local t = ARGV[2]
local a = redis.call('ZSCORE', alive, t)
if not a or tonumber(a) <= now then return reply({ ok = false, reason = 'not_found' }) end
local l = redis.call('ZSCORE', lease, t)
local h = redis.call('HGET', holders, t)
local leased = l and tonumber(l) > now and h
return reply({ ok = true, value = { token = t, holder = leased and h or false,
  assignedUntil = leased and tonumber(l) or false, aliveUntil = tonumber(a) } })
`;

/** ARGV: now, lazyLimit */
const COUNTS = `
sweep(tonumber(ARGV[2]))
return reply({ ok = true, value = { available = redis.call('SCARD', avail),
  assigned = redis.call('ZCARD', lease), total = redis.call('ZCARD', alive) } })
`;

/** ARGV: now, limit */
const SWEEP = `
return reply({ more = sweep(tonumber(ARGV[2])) })
`;

/** The scripts by command name, for ioredis `defineCommand` (4 keys each). */
export const POOL_SCRIPTS = {
  akmPoolAdd: PRELUDE + ADD_TOKENS,
  akmPoolAssign: PRELUDE + ASSIGN,
  akmPoolUnblock: PRELUDE + UNBLOCK,
  akmPoolKeepAlive: PRELUDE + KEEP_ALIVE,
  akmPoolRemove: PRELUDE + REMOVE,
  akmPoolGet: PRELUDE + GET_TOKEN,
  akmPoolCounts: PRELUDE + COUNTS,
  akmPoolSweep: PRELUDE + SWEEP,
} as const;

/** Name of one pool script. */
export type PoolScriptName = keyof typeof POOL_SCRIPTS;
