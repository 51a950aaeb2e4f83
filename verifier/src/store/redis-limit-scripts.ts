/**
 * The Redis rate limiter's two Lua scripts: one charges a key's limits (one request, or a lease of
 * several at once), one gives a lease's unused requests back to the windows they were charged to.
 * Each runs atomically, so a key's limits hold exactly however many instances share the Redis.
 */

/** Name of the charging script's command on the client. */
export const GRANT_COMMAND = 'akmRateLimit';
/** Name of the returning script's command on the client. */
export const RETURN_COMMAND = 'akmRateLimitReturn';

/**
 * A grant never exceeds the room left in the tightest limit divided by this: leases shrink as a
 * window fills, and the last `LEASE_DIVISOR` × 2 requests of a window go one round trip each.
 */
export const LEASE_DIVISOR = 16;

/**
 * Milliseconds within which a window's end, read again when a lease is returned, must match the
 * end recorded when it was granted. Far below the shortest window (1 s): a window opened after the
 * granted one ends at least a whole window later, so it never matches.
 */
export const RETURN_TOLERANCE_MS = 250;

/**
 * KEYS: one counter per limit. ARGV[1]: requests wanted (0 to read, 1 for one request, more for a
 * lease); ARGV[2]: the divisor; then per limit its count and window in milliseconds.
 * Grants n = min(wanted, max(1, floor(room / divisor))) where room is what the tightest limit still
 * allows, charged to every limit, or 0 (charges none) when room < 1 or nothing was wanted.
 * Returns {n, count1, pttl1, end1, count2, pttl2, end2, …}: counts before the grant, milliseconds
 * until each window resets (after the grant; not positive: no window open), and where anything
 * was granted each window's end on Redis's clock (ms since epoch), which identifies the window.
 * A window opens with the first request counted in it and its counter expires when it resets.
 */
export const GRANT_SCRIPT = `
local want = tonumber(ARGV[1])
local out = {0}
local room = nil
for i = 1, #KEYS do
  local ttl = redis.call('PTTL', KEYS[i])
  local count = 0
  if ttl > 0 then count = tonumber(redis.call('GET', KEYS[i]) or '0') end
  local left = tonumber(ARGV[2 * i + 1]) - count
  if room == nil or left < room then room = left end
  out[3 * i - 1] = count
  out[3 * i] = ttl
  out[3 * i + 1] = 0
end
if want > 0 and room ~= nil and room >= 1 then
  local n = math.min(want, math.max(1, math.floor(room / tonumber(ARGV[2]))))
  local time = redis.call('TIME')
  local nowMs = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  out[1] = n
  for i = 1, #KEYS do
    if out[3 * i] > 0 then
      redis.call('INCRBY', KEYS[i], n)
    else
      redis.call('SET', KEYS[i], n, 'PX', ARGV[2 * i + 2])
      out[3 * i] = tonumber(ARGV[2 * i + 2])
    end
    out[3 * i + 1] = nowMs + out[3 * i]
  end
end
return out
`;

/**
 * KEYS: a lease's counters. ARGV[1]: unused requests; ARGV[2]: the tolerance in milliseconds; then
 * per counter the end of the window the lease was charged to (ms since epoch, Redis's clock).
 * Takes the requests off each counter whose window is still that one; a counter whose window
 * ended (or was replaced by a newer one) keeps its count, so a newer window is never credited
 * with requests charged to an older one. Returns how many counters got them back.
 */
export const RETURN_SCRIPT = `
local n = tonumber(ARGV[1])
local time = redis.call('TIME')
local nowMs = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local back = 0
for i = 1, #KEYS do
  local ttl = redis.call('PTTL', KEYS[i])
  if ttl > 0 and math.abs(nowMs + ttl - tonumber(ARGV[2 + i])) <= tonumber(ARGV[2]) then
    local count = tonumber(redis.call('GET', KEYS[i]) or '0')
    redis.call('DECRBY', KEYS[i], math.min(n, count))
    back = back + 1
  end
end
return back
`;
