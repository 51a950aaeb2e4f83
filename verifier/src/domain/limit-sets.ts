/**
 * The distinct sets of limits the keys held use, each stored once: a key-state entry holds a
 * 4-byte index instead of its own array of limit objects. Keys share a handful of plans, so the
 * table stays small; it only grows (by one entry per distinct set ever seen).
 */
import { defaultLimits, type RateLimitSpec } from '@akm/common';

/** Interned sets of limits. */
export interface LimitSets {
  /** The index of `limits` (or, when absent, of the one per-minute limit of `rateLimit`). */
  idOf(limits: readonly RateLimitSpec[] | undefined, rateLimit: number): number;
  /** The set at `id` (frozen: shared by every key that has it). */
  get(id: number): readonly RateLimitSpec[];
  /** Number of distinct sets. */
  size(): number;
}

/** Creates an empty table of limit sets. */
export function createLimitSets(): LimitSets {
  const ids = new Map<string, number>();
  const sets: (readonly RateLimitSpec[])[] = [];
  return {
    idOf(limits, rateLimit) {
      // A key without limits has the one default limit: its rate limit alone names the set.
      const name = limits ? JSON.stringify(limits.map((l) => [l.name, l.limit, l.windowSeconds])) : String(rateLimit);
      let id = ids.get(name);
      if (id === undefined) {
        id = sets.push(Object.freeze((limits ?? defaultLimits(rateLimit)).map((l) => Object.freeze({ ...l })))) - 1;
        ids.set(name, id);
      }
      return id;
    },
    get(id) {
      return sets[id]!;
    },
    size: () => sets.length,
  };
}
