/**
 * The Lua scripts of the Redis pool store: each operation is one script, so it is atomic for
 * every client of the same Redis. All scripts take the same five keys:
 *
 * - `alive`   sorted set token → purge deadline (ms): every token of the pool is in it;
 * - `avail`   set of the available tokens, for an O(1) random pick (SPOP);
 * - `lease`   sorted set token → assignment deadline (ms), assigned tokens only;
 * - `holders` hash token → holder;
 * - `held`    sorted set, every score 0, of `<byte length of holder>:<holder>:<token>` for each
 *             assigned token: a lexicographic range (ZRANGEBYLEX, O(log N + its size)) lists one
 *             holder's tokens, for the per-holder cap. The length prefix keeps a holder's range
 *             from reaching into another's (`ab` and `ab:c` differ in length).
 *
 * The caller passes the time (ARGV[1], ms): scripts never read Redis TIME, so one injected
 * clock drives both stores. Every script answers a JSON object with the deadlines it applied.
 */

const PRELUDE = `
local alive, avail, lease, holders, held = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local now = tonumber(ARGV[1])
local released, purged = {}, {}

-- The start of every member of held for holder h.
local function heldPrefix(h)
  return #h .. ':' .. h .. ':'
end

-- Ends the assignment of t to h (nil when t is not assigned) in holders and held.
local function unhold(t, h)
  if not h then return end
  redis.call('HDEL', holders, t)
  redis.call('ZREM', held, heldPrefix(h) .. t)
end

local function drop(t)
  local h = redis.call('HGET', holders, t)
  redis.call('ZREM', alive, t)
  redis.call('SREM', avail, t)
  redis.call('ZREM', lease, t)
  unhold(t, h)
  return h
end

local function purge(t)
  purged[#purged + 1] = { t, drop(t) }
end

local function release(t)
  local h = redis.call('HGET', holders, t)
  redis.call('ZREM', lease, t)
  unhold(t, h)
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

-- How many live tokens h holds, counting no further than enough; its due ones are applied on
-- the way (each either counts or leaves the range, so this reads at most its own tokens).
local function heldBy(h, enough)
  local prefix = heldPrefix(h)
  -- The range of members starting with prefix: the prefix ends with ':', and ';' follows it.
  local from, to = '[' .. prefix, '(' .. string.sub(prefix, 1, -2) .. ';'
  local live = 0
  while live < enough do
    local mine = redis.call('ZRANGEBYLEX', held, from, to, 'LIMIT', live, enough - live)
    if #mine == 0 then break end
    for _, m in ipairs(mine) do
      local t = string.sub(m, #prefix + 1)
      if settle(t) and redis.call('HGET', holders, t) == h then
        live = live + 1
      else
        -- Not (or no longer) h's: settle released or purged it, or held is out of date.
        redis.call('ZREM', held, m)
      end
    end
  end
  return live
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

/** ARGV: now, holder, assignTtlMs, keepAliveMs, lazyLimit, maxPicks, maxPerHolder */
const ASSIGN = `
sweep(tonumber(ARGV[5]))
local holder = ARGV[2]
if heldBy(holder, tonumber(ARGV[7])) >= tonumber(ARGV[7]) then return reply({ ok = false, reason = 'holder_limit' }) end
for _ = 1, tonumber(ARGV[6]) do
  local t = redis.call('SPOP', avail)
  if not t then break end
  local a = tonumber(redis.call('ZSCORE', alive, t) or '0')
  if a > now then
    redis.call('ZADD', lease, now + tonumber(ARGV[3]), t)
    redis.call('HSET', holders, t, holder)
    redis.call('ZADD', held, 0, heldPrefix(holder) .. t)
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
unhold(t, h)
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
if h then
  redis.call('ZADD', lease, 'GT', now + tonumber(ARGV[6]), t)
  -- A lease made before held existed is counted from its first keep-alive on.
  redis.call('ZADD', held, 0, heldPrefix(h) .. t)
end
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

/** The keys every script takes, in order (each prefixed by the store). */
export const POOL_KEYS = ['alive', 'avail', 'lease', 'holders', 'held'] as const;

/** The scripts by command name, for ioredis `defineCommand` (the {@link POOL_KEYS} each). */
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
