/**
 * Stored usage counts and the repository the usage service needs (a port: `store/` implements
 * it). Counts are kept per key per minute (a week) and per key per hour (400 days); times are
 * seconds since epoch, each period named by its start.
 */
import type { UsageCounts, UsageOutcome } from '@akm/common';

/** Size of a usage period. */
export type UsageGranularity = 'minute' | 'hour' | 'day';

/** Seconds in a period of each granularity (a day is a UTC day). */
export const GRANULARITY_SECONDS: Record<UsageGranularity, number> = { minute: 60, hour: 3600, day: 86_400 };

/** Counts of one period. */
export interface UsageBucket {
  /** Start of the period, seconds since epoch. */
  at: number;
  counts: UsageCounts;
}

/** Counts of one key over a window. */
export interface KeyUsageTotals {
  keyId: string;
  counts: UsageCounts;
}

/** A query of the busiest keys. */
export interface TopUsageQuery {
  /** The outcome to rank by; keys with none of it are left out. */
  by: UsageOutcome;
  /** Window start (inclusive) and end (exclusive), seconds since epoch. */
  from: number;
  to: number;
  limit: number;
  /** Only keys that belong to this user id. */
  ownerId?: string;
}

/** How old (seconds since epoch, exclusive) rows may be before they are deleted. */
export interface UsageRetention {
  minutesBefore: number;
  hoursBefore: number;
  /** Applied report ids, milliseconds since epoch. */
  reportsBeforeMs: number;
}

/** Reads and writes usage counts. */
export interface UsageRepository {
  /**
   * Records that report `id` is being applied; false when it was applied before (then its counts
   * must not be added again). Call in the transaction that adds its counts.
   */
  markApplied(id: string, nowMs: number): Promise<boolean>;
  /** Adds one key's counts of one minute to that minute and to its hour. */
  add(keyId: string, minute: number, counts: Partial<UsageCounts>): Promise<void>;
  /** The periods of a key in [from, to) that have any request, oldest first. */
  series(keyId: string, granularity: UsageGranularity, from: number, to: number): Promise<UsageBucket[]>;
  /**
   * Totals per key over [from, to), most `by` first. Whole hours are read from hourly rows and the
   * partial hours at either end from minute rows, so a window is exact to the minute.
   */
  top(query: TopUsageQuery): Promise<KeyUsageTotals[]>;
  /** Deletes up to `limit` rows older than the retention; returns how many it deleted. */
  prune(retention: UsageRetention, limit: number): Promise<number>;
}
