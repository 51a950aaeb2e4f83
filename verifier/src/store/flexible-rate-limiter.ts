/**
 * A {@link RateLimiter} over rate-limiter-flexible. A limiter of that library has a fixed number
 * of points, while a key's limit can change at any time; so there is one library limiter per
 * distinct limit, all counting under the same storage key per akm key. A changed limit
 * therefore applies at once to the count already made in the window.
 */
import { LRUCache } from 'lru-cache';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { RATE_WINDOW_SECONDS, type LimitDecision, type RateLimiter, type RateWindow } from '../domain/rate-limiter.js';

/** Builds the library limiter for one limit (points per window). */
export type LimiterFactory = (points: number) => RateLimiterAbstract;

/** Most distinct limits kept at once; each costs one small library limiter. */
const MAX_DISTINCT_LIMITS = 1000;

/** A key's window from a library result (null: nothing counted yet). */
export function windowOf(limit: number, res: RateLimiterRes | null, refused: boolean): RateWindow {
  if (!res) return { limit, remaining: limit, resetSeconds: RATE_WINDOW_SECONDS };
  // A refusal from the in-memory block carries no count: nothing is left either way.
  const remaining = refused ? 0 : Math.max(0, limit - res.consumedPoints);
  return { limit, remaining, resetSeconds: Math.max(0, Math.ceil(res.msBeforeNext / 1000)) };
}

/** Wraps a per-limit factory of library limiters as a {@link RateLimiter}. */
export function createFlexibleRateLimiter(factory: LimiterFactory): RateLimiter {
  const limiters = new LRUCache<number, RateLimiterAbstract>({ max: MAX_DISTINCT_LIMITS });
  const limiterFor = (limit: number) => {
    let limiter = limiters.get(limit);
    if (!limiter) {
      limiter = factory(limit);
      limiters.set(limit, limiter);
    }
    return limiter;
  };

  return {
    async consume(keyId, limit): Promise<LimitDecision> {
      try {
        const res = await limiterFor(limit).consume(keyId, 1);
        return { allowed: true, window: windowOf(limit, res, false) };
      } catch (err) {
        // The library rejects with its result when over the limit; anything else is a real error.
        if (!(err instanceof RateLimiterRes)) throw err;
        const window = windowOf(limit, err, true);
        return { allowed: false, window, retryAfterSeconds: Math.max(1, window.resetSeconds) };
      }
    },
    async peek(keyId, limit) {
      const res = await limiterFor(limit).get(keyId);
      return windowOf(limit, res, false);
    },
  };
}
