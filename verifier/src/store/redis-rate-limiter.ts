/**
 * The shared rate limiter: counts in Redis, so a key's limits hold exactly across every
 * verifier instance. One Lua script reads every window of the key and charges all of them only
 * if none refuses (rate-limiter-flexible, used before, counts one limit per call: with several
 * limits a request refused by one would still have been charged by the others). The script's
 * calls made in one event-loop turn share a pipeline.
 *
 * When Redis is unreachable each instance falls back to counting in its own memory instead of
 * failing or letting everything through; and a key Redis refused is refused from memory,
 * without a round trip, until its refusing window resets.
 */
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { decideWindows, type CountedLimit, type RateLimiter } from '../domain/rate-limiter.js';
import { batchCommand } from './batched-redis-command.js';
import { createMemoryRateLimiter } from './memory-rate-limiter.js';

/** Options of {@link createRedisRateLimiter}. */
export interface RedisRateLimiterOptions {
  /**
   * An ioredis client made with `enableOfflineQueue: false` and short timeouts (see
   * {@link REDIS_CLIENT_OPTIONS}), so a dead Redis fails fast into the memory fallback.
   * The limiter never quits it: its owner does.
   */
  redis: Redis;
  /** Prefix of the Redis keys. Default `akm:rl`. */
  keyPrefix?: string;
  /** Called each time a request is counted in memory because Redis could not be used. */
  onFallback?: () => void;
  /** The clock of the in-memory block and fallback, milliseconds since epoch. Default `Date.now`. */
  now?: () => number;
}

/**
 * ioredis options for the limiter's client: fail fast rather than queue while Redis is away
 * (no offline queue: a call while the connection is down fails at once). A call sent on a live
 * connection gets a second to answer: an answer that is only late (a busy event loop reads it
 * after the timer fires) must not send a request to the memory fallback, which counts it
 * again although Redis may have counted it (docs/performance.md, "never over the limit").
 */
export const REDIS_CLIENT_OPTIONS = {
  enableOfflineQueue: false,
  connectTimeout: 500,
  commandTimeout: 1000,
  maxRetriesPerRequest: 0,
  retryStrategy: (attempt: number) => Math.min(50 * attempt, 1000),
} as const;

/** Name of the script's command on the client. */
const COMMAND = 'akmRateLimit';

/**
 * KEYS: one counter per limit. ARGV[1]: 1 to count the request, 0 to read; then per limit its
 * count and window in milliseconds. Returns {allowed, count1, pttl1, count2, pttl2, …}: counts
 * before the request, and milliseconds until each window resets (negative: no window open).
 * A window opens with the first request counted in it and its counter expires when it resets.
 */
const SCRIPT = `
local cost = tonumber(ARGV[1])
local out = {1}
for i = 1, #KEYS do
  local ttl = redis.call('PTTL', KEYS[i])
  local count = 0
  if ttl > 0 then count = tonumber(redis.call('GET', KEYS[i]) or '0') end
  if count + cost > tonumber(ARGV[2 * i]) then out[1] = 0 end
  out[2 * i] = count
  out[2 * i + 1] = ttl
end
if out[1] == 1 and cost > 0 then
  for i = 1, #KEYS do
    if out[2 * i + 1] > 0 then
      redis.call('INCRBY', KEYS[i], cost)
    else
      redis.call('SET', KEYS[i], cost, 'PX', ARGV[2 * i + 1])
    end
  end
end
return out
`;

type ScriptFn = (...args: (string | number)[]) => Promise<number[]>;

/** What the script read: each limit's count before the request, and when its window resets (ms since epoch; undefined: none open). */
interface Counts {
  counts: number[];
  resetAt: (number | undefined)[];
}

/** Most keys held refused in memory at once. */
const MAX_BLOCKED = 100_000;

/** Creates a rate limiter that counts in Redis, with a per-instance memory fallback. */
export function createRedisRateLimiter(options: RedisRateLimiterOptions): RateLimiter {
  const keyPrefix = options.keyPrefix ?? 'akm:rl';
  const onFallback = options.onFallback ?? (() => {});
  const now = options.now ?? Date.now;
  const { redis } = options;
  if (!(COMMAND in redis)) redis.defineCommand(COMMAND, { lua: SCRIPT });
  const batched = batchCommand(redis, COMMAND) as unknown as Record<typeof COMMAND, ScriptFn>;
  const fallback = createMemoryRateLimiter({ keyPrefix: `${keyPrefix}:fallback`, now });
  /** Keys Redis refused, by key id and limits: Redis's counts, and when each window resets (ms since epoch). */
  const blocked = new LRUCache<string, Counts & { until: number }>({ max: MAX_BLOCKED });

  // A hash tag keeps a key's counters in one slot of a Redis Cluster, as one script needs.
  // (A key's credits have a counter of their own, in another slot: such keys need one Redis, not a Cluster.)
  const counterKeys = (keyId: string, limits: readonly CountedLimit[]) =>
    limits.map((l) => (l.counter ? `${keyPrefix}:${l.counter}` : `${keyPrefix}:{${keyId}}:${l.name}:${l.windowSeconds}`));
  const blockId = (keyId: string, limits: readonly CountedLimit[]) =>
    `${keyId}|${limits.map((l) => `${l.counter ?? l.name}:${l.limit}:${l.counter ? '' : l.windowSeconds}`).join('|')}`;

  async function run(keyId: string, limits: readonly CountedLimit[], cost: 0 | 1): Promise<Counts | undefined> {
    if (redis.status !== 'ready') return undefined;
    const args: (string | number)[] = [limits.length, ...counterKeys(keyId, limits), cost];
    for (const l of limits) args.push(l.limit, l.windowSeconds * 1000);
    let out: number[];
    try {
      out = await batched[COMMAND](...args);
    } catch {
      return undefined;
    }
    const t = now();
    const counts = limits.map((_, i) => Number(out[2 * i + 1]));
    const resetAt = limits.map((_, i) => {
      const ttl = Number(out[2 * i + 2]);
      return ttl > 0 ? t + ttl : undefined;
    });
    return { counts, resetAt };
  }

  const decide = (limits: readonly CountedLimit[], c: Counts, cost: 0 | 1) => {
    const t = now();
    return decideWindows(limits, c.counts, c.resetAt.map((at) => (at === undefined ? undefined : at - t)), cost);
  };

  return {
    async consume(keyId, limits) {
      const id = blockId(keyId, limits);
      const block = blocked.get(id);
      if (block && block.until > now()) return decide(limits, block, 1);
      const counted = await run(keyId, limits, 1);
      if (!counted) {
        onFallback();
        return fallback.consume(keyId, limits);
      }
      const decision = decide(limits, counted, 1);
      if (!decision.allowed) {
        // Until the last refusing window resets: no request can be served before.
        const until = Math.max(...limits.map((l, i) => (counted.counts[i]! + 1 > l.limit ? (counted.resetAt[i] ?? 0) : 0)));
        blocked.set(id, { ...counted, until });
      }
      return decision;
    },
    async peek(keyId, limits) {
      const counted = await run(keyId, limits, 0);
      if (counted) {
        const { windows, window } = decide(limits, counted, 0);
        return { windows, window };
      }
      onFallback();
      return fallback.peek(keyId, limits);
    },
    counting: () => (redis.status === 'ready' ? 'shared' : 'local'),
  };
}
