/**
 * The rate limiter as the verifier sees it: a per-key count of requests in a fixed one-minute
 * window. Implementations (Redis, memory) live in `store/`; the domain never sees their types.
 */

/** Length of a rate-limit window, in seconds: limits are requests per minute. */
export const RATE_WINDOW_SECONDS = 60;

/** Where a key stands in its current window. */
export interface RateWindow {
  /** Requests allowed in the window (the key's current limit). */
  limit: number;
  /** Requests still allowed in the window (never negative). */
  remaining: number;
  /** Seconds until the window resets (at least 0, rounded up). */
  resetSeconds: number;
}

/** Outcome of counting one request: allowed, or refused with when to retry. */
export type LimitDecision =
  | { allowed: true; window: RateWindow }
  | { allowed: false; window: RateWindow; retryAfterSeconds: number };

/** Counts requests per key against a limit that may change from one call to the next. */
export interface RateLimiter {
  /** Counts one request of `keyId` against `limit` requests per minute. */
  consume(keyId: string, limit: number): Promise<LimitDecision>;
  /** Reads where `keyId` stands without counting a request. */
  peek(keyId: string, limit: number): Promise<RateWindow>;
  /**
   * Where counts are kept right now: `shared` across instances (Redis reachable), or `local`
   * to this process (by design, or as a fallback while Redis is away). `local` when omitted.
   */
  counting?(): 'shared' | 'local';
  /** Releases the limiter's resources (not a shared Redis client). */
  close?(): Promise<void>;
}
