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
import { decideWindows, type CountedLimit, type LimitDecision, type RateLimiter } from '../domain/rate-limiter.js';
import { batchCommand } from './batched-redis-command.js';
import { createMemoryRateLimiter } from './memory-rate-limiter.js';
import { nextLeaseSize, serveFromLease, type Lease, type LeaseSlot } from './quota-lease.js';
import { GRANT_COMMAND, GRANT_SCRIPT, LEASE_DIVISOR, RETURN_COMMAND, RETURN_SCRIPT, RETURN_TOLERANCE_MS } from './redis-limit-scripts.js';

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
  /**
   * The clock of the in-memory block, the leases and the fallback, milliseconds since epoch.
   * Default: a monotonic clock (`performance.timeOrigin + performance.now()`).
   */
  now?: () => number;
  /**
   * Most requests of a key one lease may hold (quota leasing, docs/performance.md): an instance
   * charges a batch of a key's requests in one script and serves them without a round trip.
   * Default {@link DEFAULT_LEASE_MAX}; 1 turns leasing off (one script call per request).
   */
  leaseMax?: number;
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

type ScriptFn = (...args: (string | number)[]) => Promise<number[]>;

/** What the charging script read and granted. */
interface Counts {
  /** Requests granted (charged to every limit); 0: none. */
  granted: number;
  /** Each limit's count before the grant. */
  counts: number[];
  /** When each window resets (ms since epoch, local clock; undefined: none open). */
  resetAt: (number | undefined)[];
  /** Milliseconds until each window resets, as the script saw them (after the grant). */
  ttl: number[];
  /** Each window's end on Redis's clock, where anything was granted. */
  ends: number[];
}

/** A lease slot; a refused grant hands its counts to the requests that waited for it. */
type Slot = LeaseSlot<Counts>;

/** Most keys held refused in memory at once. */
const MAX_BLOCKED = 100_000;
/** Most keys and limit sets with a lease slot at once (the least recently used give theirs back). */
const MAX_LEASE_SLOTS = 100_000;
/** Default of {@link RedisRateLimiterOptions.leaseMax}. */
export const DEFAULT_LEASE_MAX = 64;
/** A lease that served nothing for this long gives its requests back (ms). Also how often leases are checked. */
const LEASE_IDLE_MS = 1000;

/** Creates a rate limiter that counts in Redis, with a per-instance memory fallback. */
export function createRedisRateLimiter(options: RedisRateLimiterOptions): RateLimiter {
  const keyPrefix = options.keyPrefix ?? 'akm:rl';
  const onFallback = options.onFallback ?? (() => {});
  // Monotonic: a lease's expiry is a local time, and a clock stepped back must not lengthen it.
  const now = options.now ?? (() => performance.timeOrigin + performance.now());
  const leaseMax = Math.max(1, Math.floor(options.leaseMax ?? DEFAULT_LEASE_MAX));
  const { redis } = options;
  if (!(GRANT_COMMAND in redis)) redis.defineCommand(GRANT_COMMAND, { lua: GRANT_SCRIPT });
  if (!(RETURN_COMMAND in redis)) redis.defineCommand(RETURN_COMMAND, { lua: RETURN_SCRIPT });
  const batched = batchCommand(redis, GRANT_COMMAND) as unknown as Record<typeof GRANT_COMMAND, ScriptFn>;
  const giveBackCommand = (redis as unknown as Record<typeof RETURN_COMMAND, ScriptFn>)[RETURN_COMMAND].bind(redis);
  const fallback = createMemoryRateLimiter({ keyPrefix: `${keyPrefix}:fallback`, now });
  /** Keys Redis refused, by key id and limits: Redis's counts, and when each window resets (ms since epoch). */
  const blocked = new LRUCache<string, Counts & { until: number }>({ max: MAX_BLOCKED });
  /** Leases with requests left, and the slot each belongs to. */
  const held = new Map<Lease, Slot>();
  const slots = new LRUCache<string, Slot>({
    max: MAX_LEASE_SLOTS,
    dispose: (slot) => {
      if (slot.lease) void giveBack(slot.lease);
    },
  });
  let closed = false;

  // A hash tag keeps a key's counters in one slot of a Redis Cluster, as one script needs.
  // (A key's credits have a counter of their own, in another slot: such keys need one Redis, not a Cluster.)
  const counterKeys = (keyId: string, limits: readonly CountedLimit[]) =>
    limits.map((l) => (l.counter ? `${keyPrefix}:${l.counter}` : `${keyPrefix}:{${keyId}}:${l.name}:${l.windowSeconds}`));
  const blockId = (keyId: string, limits: readonly CountedLimit[]) =>
    `${keyId}|${limits.map((l) => `${l.counter ?? l.name}:${l.limit}:${l.counter ? '' : l.windowSeconds}`).join('|')}`;

  /** Runs the charging script for `want` requests (0: read only); undefined when Redis could not be used. */
  async function run(keys: readonly string[], limits: readonly CountedLimit[], want: number): Promise<Counts | undefined> {
    if (redis.status !== 'ready') return undefined;
    const args: (string | number)[] = [limits.length, ...keys, want, LEASE_DIVISOR];
    for (const l of limits) args.push(l.limit, l.windowSeconds * 1000);
    let out: number[];
    try {
      out = await batched[GRANT_COMMAND](...args);
    } catch {
      return undefined;
    }
    const t = now();
    const at = (i: number, k: number) => Number(out[3 * i + k]);
    return {
      granted: Number(out[0]),
      counts: limits.map((_, i) => at(i, 1)),
      ttl: limits.map((_, i) => at(i, 2)),
      resetAt: limits.map((_, i) => (at(i, 2) > 0 ? t + at(i, 2) : undefined)),
      ends: limits.map((_, i) => at(i, 3)),
    };
  }

  const decide = (limits: readonly CountedLimit[], c: Counts, cost: 0 | 1) => {
    const t = now();
    return decideWindows(limits, c.counts, c.resetAt.map((at) => (at === undefined ? undefined : at - t)), cost);
  };

  /** Holds a refused key refused in memory until the last refusing window resets: no request can be served before. */
  const block = (id: string, limits: readonly CountedLimit[], counted: Counts) => {
    const until = Math.max(...limits.map((l, i) => (counted.counts[i]! + 1 > l.limit ? (counted.resetAt[i] ?? 0) : 0)));
    blocked.set(id, { ...counted, until });
  };

  /** Gives a lease's unused requests back to the windows they were charged to, if still open. */
  async function giveBack(lease: Lease): Promise<void> {
    const slot = held.get(lease);
    held.delete(lease);
    const unused = lease.tokens;
    lease.tokens = 0;
    if (slot?.lease === lease) slot.lease = undefined;
    if (unused <= 0 || redis.status !== 'ready') return;
    await giveBackCommand(lease.keys.length, ...lease.keys, unused, RETURN_TOLERANCE_MS, ...lease.ends).catch(() => undefined);
  }

  /** One request, one round trip: today's path for credits, with leasing off, and after `close()`. */
  async function consumeOne(keyId: string, limits: readonly CountedLimit[], id: string): Promise<LimitDecision> {
    const counted = await run(counterKeys(keyId, limits), limits, 1);
    if (!counted) {
      onFallback();
      return fallback.consume(keyId, limits);
    }
    const decision = decide(limits, counted, 1);
    if (!decision.allowed) block(id, limits, counted);
    return decision;
  }

  /** Asks Redis for the slot's next lease; requests arriving meanwhile wait for the answer. */
  async function lease(keyId: string, limits: readonly CountedLimit[], id: string, slot: Slot): Promise<'granted' | 'unavailable' | Counts> {
    const keys = counterKeys(keyId, limits);
    // Taken before the script is sent: Redis runs it later, so every window it sees ends after sent + its ttl.
    const sent = now();
    const counted = await run(keys, limits, nextLeaseSize(slot, sent, leaseMax));
    slot.pending = undefined;
    if (!counted) return 'unavailable';
    if (counted.granted === 0) {
      block(id, limits, counted);
      return counted;
    }
    const t = now();
    const granted = counted.granted;
    slot.lease = {
      keys,
      tokens: granted,
      usedAt: t,
      expiresAt: sent + Math.min(...counted.ttl),
      counts: counted.counts.map((c) => c + granted),
      resetAt: counted.ttl.map((ms) => t + ms),
      ends: counted.ends,
    };
    held.set(slot.lease, slot);
    return 'granted';
  }

  const onExpired = (expired: Lease) => void giveBack(expired);

  // Leases that served nothing for a while give their requests back, so an instance whose
  // traffic moved elsewhere strands a key's quota for at most about two of these periods.
  const sweeper = setInterval(() => {
    const t = now();
    for (const [idle, slot] of held) {
      if (idle.tokens > 0 && t - idle.usedAt < LEASE_IDLE_MS) continue;
      if (idle.tokens > 0) slot.size = Math.max(1, Math.floor(slot.size / 2));
      void giveBack(idle);
    }
  }, LEASE_IDLE_MS);
  sweeper.unref();

  return {
    async consume(keyId, limits) {
      const id = blockId(keyId, limits);
      const block = blocked.get(id);
      if (block && block.until > now()) return decide(limits, block, 1);
      // Credits are not leased: they span days and are money, and a lease could strand them.
      if (leaseMax === 1 || closed || limits.some((l) => l.counter)) return consumeOne(keyId, limits, id);
      let slot = slots.get(id);
      if (!slot) slots.set(id, (slot = { size: 1 }));
      for (;;) {
        const served = serveFromLease(slot, limits, now(), onExpired);
        if (served) return served;
        if (closed) return consumeOne(keyId, limits, id);
        slot.pending ??= lease(keyId, limits, id, slot);
        const outcome = await slot.pending;
        if (outcome === 'unavailable') {
          onFallback();
          return fallback.consume(keyId, limits);
        }
        // Refused: so is every request that waited for this answer.
        if (outcome !== 'granted') return decide(limits, outcome, 1);
      }
    },
    async peek(keyId, limits) {
      const counted = await run(counterKeys(keyId, limits), limits, 0);
      if (counted) {
        const { windows, window } = decide(limits, counted, 0);
        return { windows, window };
      }
      onFallback();
      return fallback.peek(keyId, limits);
    },
    counting: () => (redis.status === 'ready' ? 'shared' : 'local'),
    async close() {
      closed = true;
      clearInterval(sweeper);
      await Promise.all([...slots.values()].map((slot) => slot.pending));
      await Promise.all([...held.keys()].map(giveBack));
    },
  };
}
