/**
 * A quota lease: requests of one key charged in Redis ahead of time, to every limit of the key
 * at once, and served from this process one by one. Served only while every window it was
 * charged to is certainly still open: its expiry is the local time taken before the charging
 * script was sent plus the shortest time to reset the script saw (Redis ran it later, so no
 * window ends before that instant). How many requests to ask for next follows the key's demand
 * here: doubled when the next lease is asked for within a second of the last (the last ran out
 * that fast), halved when one ends with requests unused.
 */
import { decideWindows, type CountedLimit, type LimitDecision } from '../domain/rate-limiter.js';

/** A lease asked for within this many milliseconds of the last one is asked twice as big. */
const QUICK_MS = 1000;

/** Requests charged in Redis and not yet served. */
export interface Lease {
  /** The Redis counters it was charged to, one per limit. */
  keys: string[];
  /** Requests left to serve. */
  tokens: number;
  /** Local time it last served a request, or of its grant (ms since epoch). */
  usedAt: number;
  /** Local time from which the lease must not be served any more (ms since epoch). */
  expiresAt: number;
  /** Each limit's count in Redis right after the grant. */
  counts: number[];
  /** When each window resets, local time (ms since epoch), for the headers. */
  resetAt: number[];
  /** Each window's end on Redis's clock (ms since epoch): identifies it when giving requests back. */
  ends: number[];
}

/** What one instance holds for one key and set of limits; `R` is what a refused grant tells the requests waiting for it. */
export interface LeaseSlot<R = unknown> {
  lease?: Lease | undefined;
  /** Requests to ask for in the next lease. */
  size: number;
  /** Local time the last lease was asked for (ms since epoch). */
  askedAt?: number;
  /** The grant on its way, if any: requests arriving meanwhile wait for it. */
  pending?: Promise<'granted' | 'unavailable' | R> | undefined;
}

/**
 * How many requests to ask for in the slot's next lease, asked at `t`: twice the last, up to
 * `maxSize`, when the last was asked for less than a second ago (it ran out that fast). The
 * request that asks always takes one at once, so a lease running out is no sign of demand by
 * itself: a key seen every few seconds keeps asking for 1 and strands nothing.
 */
export function nextLeaseSize(slot: LeaseSlot, t: number, maxSize: number): number {
  if (slot.askedAt !== undefined && t - slot.askedAt < QUICK_MS) slot.size = Math.min(maxSize, slot.size * 2);
  slot.askedAt = t;
  return slot.size;
}

/**
 * Serves one request from the slot's lease, or undefined when it has none left or it expired
 * (a lease that expires with requests left makes the next one smaller; `onExpired` gets it to
 * try to give them back). The decision's remaining counts what Redis has counted and this
 * lease has not served yet as available.
 */
export function serveFromLease(slot: LeaseSlot, limits: readonly CountedLimit[], t: number, onExpired: (lease: Lease) => void): LimitDecision | undefined {
  const lease = slot.lease;
  if (!lease) return undefined;
  if (lease.tokens <= 0) {
    slot.lease = undefined;
    return undefined;
  }
  if (t >= lease.expiresAt) {
    slot.lease = undefined;
    slot.size = Math.max(1, Math.floor(slot.size / 2));
    onExpired(lease);
    return undefined;
  }
  const unused = lease.tokens--;
  lease.usedAt = t;
  if (lease.tokens === 0) slot.lease = undefined;
  const counts = lease.counts.map((c) => c - unused);
  return decideWindows(limits, counts, lease.resetAt.map((at) => at - t), 1);
}
