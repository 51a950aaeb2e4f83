/**
 * The shared rate limiter: counts in Redis, so a key's limit holds across every verifier
 * instance. When Redis is unreachable each instance falls back to counting in its own memory
 * (the library's insurance limiter) instead of failing or letting everything through, and a key
 * already over its limit is refused from memory without a Redis round trip.
 */
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterRes } from 'rate-limiter-flexible';
import { RATE_WINDOW_SECONDS, type RateLimiter } from '../domain/rate-limiter.js';
import { batchCommand } from './batched-redis-command.js';
import { createFlexibleRateLimiter } from './flexible-rate-limiter.js';

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
}

/** ioredis options for the limiter's client: fail fast rather than queue while Redis is away. */
export const REDIS_CLIENT_OPTIONS = {
  enableOfflineQueue: false,
  connectTimeout: 500,
  commandTimeout: 300,
  maxRetriesPerRequest: 0,
  retryStrategy: (attempt: number) => Math.min(50 * attempt, 1000),
} as const;

/** The insurance limiter, counting every use: a use means Redis was not used for that call. */
class FallbackLimiter extends RateLimiterMemory {
  constructor(
    opts: ConstructorParameters<typeof RateLimiterMemory>[0],
    private readonly onUse: () => void,
  ) {
    super(opts);
  }

  override consume(key: string | number, points?: number, options?: object): Promise<RateLimiterRes> {
    this.onUse();
    return super.consume(key, points, options);
  }

  override get(key: string | number, options?: object): Promise<RateLimiterRes | null> {
    this.onUse();
    return super.get(key, options);
  }
}

/** Creates a rate limiter that counts in Redis, with a per-instance memory fallback. */
export function createRedisRateLimiter(options: RedisRateLimiterOptions): RateLimiter {
  const keyPrefix = options.keyPrefix ?? 'akm:rl';
  const onFallback = options.onFallback ?? (() => {});
  // rate-limiter-flexible counts with its `rlflxIncr` script: one pipeline per event-loop turn.
  const storeClient = batchCommand(options.redis, 'rlflxIncr');
  const limiter = createFlexibleRateLimiter(
    (points) =>
      new RateLimiterRedis({
        storeClient,
        keyPrefix,
        points,
        duration: RATE_WINDOW_SECONDS,
        // Don't wait for a Redis that is not connected: go straight to the insurance limiter.
        rejectIfRedisNotReady: true,
        // The first refused request blocks the key in memory until its window resets.
        inMemoryBlockOnConsumed: points + 1,
        insuranceLimiter: new FallbackLimiter(
          { points, duration: RATE_WINDOW_SECONDS, keyPrefix: `${keyPrefix}:fallback` },
          onFallback,
        ),
      }),
  );
  return { ...limiter, counting: () => (options.redis.status === 'ready' ? 'shared' : 'local') };
}
