/**
 * A rate limiter counting in this process only: for a single verifier, the in-process
 * deployment, tests, and the Redis limiter's fallback. With several instances each one enforces
 * the full limits on its own. Windows are fixed: a limit's window opens with the first request
 * counted in it. A counter is kept per key, limit name and window length, so a changed count
 * applies to the requests already counted.
 */
import { decideWindows, type CountedLimit, type RateLimiter } from '../domain/rate-limiter.js';

/** Options of {@link createMemoryRateLimiter}. */
export interface MemoryRateLimiterOptions {
  /** Prefix of the counters (isolates limiters sharing a process). */
  keyPrefix?: string;
  /** The clock, milliseconds since epoch. Default `Date.now`. */
  now?: () => number;
}

interface Counter {
  count: number;
  /** Milliseconds since epoch when the window resets. */
  resetAt: number;
}

/** How often ended windows are dropped, milliseconds: memory is bounded by keys used lately. */
const SWEEP_EVERY_MS = 10_000;

/** Creates a per-process rate limiter. */
export function createMemoryRateLimiter(options: MemoryRateLimiterOptions = {}): RateLimiter {
  const prefix = options.keyPrefix ?? 'akm:rl';
  const now = options.now ?? Date.now;
  const counters = new Map<string, Counter>();
  let nextSweep = 0;

  function sweep(t: number): void {
    if (t < nextSweep) return;
    nextSweep = t + SWEEP_EVERY_MS;
    for (const [id, counter] of counters) if (counter.resetAt <= t) counters.delete(id);
  }

  /** The live counters of `keyId`'s limits (undefined where no window is open). */
  function read(keyId: string, limits: readonly CountedLimit[], t: number) {
    const ids = limits.map((l) => (l.counter ? `${prefix}:${l.counter}` : `${prefix}:${keyId}:${l.name}:${l.windowSeconds}`));
    const live = ids.map((id) => {
      const counter = counters.get(id);
      return counter && counter.resetAt > t ? counter : undefined;
    });
    return {
      ids,
      live,
      counts: live.map((c) => c?.count ?? 0),
      resetMs: live.map((c) => (c ? c.resetAt - t : undefined)),
    };
  }

  return {
    async consume(keyId, limits) {
      const t = now();
      sweep(t);
      const { ids, live, counts, resetMs } = read(keyId, limits, t);
      const decision = decideWindows(limits, counts, resetMs, 1);
      if (decision.allowed) {
        limits.forEach((l, i) => {
          const counter = live[i];
          if (counter) counter.count++;
          else counters.set(ids[i]!, { count: 1, resetAt: t + l.windowSeconds * 1000 });
        });
      }
      return decision;
    },
    async peek(keyId, limits) {
      const { counts, resetMs } = read(keyId, limits, now());
      const { windows, window } = decideWindows(limits, counts, resetMs, 0);
      return { windows, window };
    },
  };
}
