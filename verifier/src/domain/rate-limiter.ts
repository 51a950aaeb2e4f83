/**
 * The rate limiter as the verifier sees it: per key, a count of requests in each of the key's
 * fixed windows (one per limit, up to five). A request is counted only when every limit allows
 * it, and then against all of them: a refused request charges none. Implementations (Redis,
 * memory) live in `store/`; the domain never sees their types.
 */
import type { RateLimitSpec } from '@akm/common';

/**
 * Length of the window of a key with the one limit `rateLimit` stands for, in seconds (requests
 * per minute).
 */
export const RATE_WINDOW_SECONDS = 60;

/** Where a key stands in one of its limits' current window. */
export interface RateWindow {
  /** The limit's name (`default` for `rateLimit`). */
  name: string;
  /** Requests allowed in the window (the limit's current count). */
  limit: number;
  /** Length of the window, seconds. */
  windowSeconds: number;
  /** Requests still allowed in the window (never negative). */
  remaining: number;
  /** Seconds until the window resets (at least 0, rounded up). */
  resetSeconds: number;
}

/** Where a key stands in all its limits, and the one closest to refusing. */
export interface RateStanding {
  /** One window per limit, in the key's order. */
  windows: readonly RateWindow[];
  /** The window with the fewest requests left (the longest to reset among equals). */
  window: RateWindow;
}

/** Outcome of counting one request: allowed, or refused with when to retry. */
export type LimitDecision =
  | ({ allowed: true } & RateStanding)
  | ({ allowed: false; retryAfterSeconds: number } & RateStanding);

/**
 * A limit as the limiter counts it. A rate limit is counted per key, limit name and window
 * length; one with a `counter` is counted under that name alone, whatever the key (a key's
 * credits, which the keys a roll made share).
 */
export interface CountedLimit extends RateLimitSpec {
  counter?: string;
}

/** Counts requests per key against limits that may change from one call to the next. */
export interface RateLimiter {
  /** Counts one request of `keyId` against every limit, or against none if any refuses it. */
  consume(keyId: string, limits: readonly CountedLimit[]): Promise<LimitDecision>;
  /** Reads where `keyId` stands without counting a request. */
  peek(keyId: string, limits: readonly CountedLimit[]): Promise<RateStanding>;
  /**
   * Where counts are kept right now: `shared` across instances (Redis reachable), or `local`
   * to this process (by design, or as a fallback while Redis is away). `local` when omitted.
   */
  counting?(): 'shared' | 'local';
  /** Releases the limiter's resources (not a shared Redis client). */
  close?(): Promise<void>;
}

/**
 * The standing and decision of `limits` given each one's count so far and milliseconds until
 * its window resets (undefined: no window open, a request would open one). `cost` is 1 when the
 * request is to be counted, 0 to read: the counts must be those before the request.
 */
export function decideWindows(
  limits: readonly CountedLimit[],
  counts: readonly number[],
  resetMs: readonly (number | undefined)[],
  cost: 0 | 1,
): LimitDecision {
  const allowed = limits.every((l, i) => counts[i]! + cost <= l.limit);
  const charged = allowed ? cost : 0;
  const windows = limits.map((l, i): RateWindow => {
    const ms = resetMs[i];
    return {
      name: l.name,
      limit: l.limit,
      windowSeconds: l.windowSeconds,
      remaining: Math.max(0, l.limit - counts[i]! - charged),
      resetSeconds: ms === undefined ? l.windowSeconds : Math.max(0, Math.ceil(ms / 1000)),
    };
  });
  if (allowed) return { allowed, windows, window: closestWindow(windows) };
  const window = refusingWindow(windows)!;
  return { allowed, windows, window, retryAfterSeconds: Math.max(1, window.resetSeconds) };
}

/**
 * Of a refused request's windows, the refusing one that resets last (served again only once
 * every refusing window has reset); undefined when none refused. A refused request charges
 * nothing, so a window with nothing left is one that refused it.
 */
export function refusingWindow(windows: readonly RateWindow[]): RateWindow | undefined {
  return windows.filter((w) => w.remaining === 0).reduce<RateWindow | undefined>((a, b) => (!a || b.resetSeconds > a.resetSeconds ? b : a), undefined);
}

/** The window closest to refusing: fewest left, then longest to reset. */
export function closestWindow(windows: readonly RateWindow[]): RateWindow {
  return windows.reduce((a, b) =>
    b.remaining < a.remaining || (b.remaining === a.remaining && b.resetSeconds > a.resetSeconds) ? b : a,
  );
}
