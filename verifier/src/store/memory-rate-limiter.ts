/**
 * A rate limiter counting in this process only: for a single verifier, the in-process
 * deployment, or tests. With several instances each one enforces the full limit on its own.
 * One counter per key serves every limit, so a changed limit applies to the count already made.
 */
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { RATE_WINDOW_SECONDS, type RateLimiter } from '../domain/rate-limiter.js';
import { windowOf } from './flexible-rate-limiter.js';

/** Options of {@link createMemoryRateLimiter}. */
export interface MemoryRateLimiterOptions {
  /** Prefix of the counters (isolates limiters sharing a process). */
  keyPrefix?: string;
}

/** Creates a per-process rate limiter. */
export function createMemoryRateLimiter(options: MemoryRateLimiterOptions = {}): RateLimiter {
  // The library only counts here; the limit is compared below, as it may differ per call.
  const counter = new RateLimiterMemory({
    points: Number.MAX_SAFE_INTEGER,
    duration: RATE_WINDOW_SECONDS,
    keyPrefix: options.keyPrefix ?? 'akm:rl',
  });
  return {
    async consume(keyId, limit) {
      const res = await counter.consume(keyId, 1);
      const window = windowOf(limit, res, false);
      if (res.consumedPoints <= limit) return { allowed: true, window };
      return { allowed: false, window, retryAfterSeconds: Math.max(1, window.resetSeconds) };
    },
    async peek(keyId, limit) {
      return windowOf(limit, await counter.get(keyId), false);
    },
  };
}
