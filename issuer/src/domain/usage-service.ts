/**
 * Usage per key: applying the verifiers' reports (each once, in one transaction with its counts)
 * and reading them back as a series of periods or as the busiest keys of a window.
 */
import { USAGE_OUTCOMES, type UsageCounts, type UsageOutcome, type UsageReport } from '@akm/common';
import type { KeyResult } from './key-service.js';
import type { KeyRecord } from './key-record.js';
import type { Transactor } from './transactor.js';
import {
  GRANULARITY_SECONDS,
  type KeyUsageTotals,
  type UsageBucket,
  type UsageGranularity,
  type UsageRepository,
} from './usage-record.js';

const DAY = 86_400;
/** Per-minute counts are kept this long, seconds. */
export const MINUTE_RETENTION_SECONDS = 7 * DAY;
/** Per-hour counts are kept this long, seconds. */
export const HOUR_RETENTION_SECONDS = 400 * DAY;
/**
 * Applied report ids are kept this long, seconds: longer than the usage stream keeps a report,
 * so a report delivered again is always recognised.
 */
export const REPORT_ID_RETENTION_SECONDS = 8 * DAY;
/** Most periods one series may have. */
export const MAX_BUCKETS = 1500;

/** What applying a report came to. */
export interface IngestResult {
  /** `duplicate`: the report was applied before and nothing was added. */
  result: 'applied' | 'duplicate';
  /** Requests added, by outcome. */
  added: UsageCounts;
  /** Keys of the report the issuer does not know (their counts are dropped). */
  unknownKeys: number;
}

/** A query of one key's usage; times in seconds since epoch. */
export interface KeyUsageQuery {
  from?: number;
  to?: number;
  granularity?: UsageGranularity;
}

/** One key's usage over a window: every period (empty ones as zeros) and the totals. */
export interface KeyUsage {
  granularity: UsageGranularity;
  /** Start of the first period, seconds since epoch. */
  from: number;
  /** End of the window (exclusive), seconds since epoch. */
  to: number;
  items: UsageBucket[];
  totals: UsageCounts;
}

/** The busiest keys of a window. */
export interface TopUsage {
  from: number;
  to: number;
  items: KeyUsageTotals[];
}

/** Options of {@link createUsageService}. */
export interface UsageServiceOptions {
  transactor: Transactor;
  usage: UsageRepository;
  /** Whether a key exists: counts of keys the issuer never issued are not stored. */
  keyExists: (id: string) => Promise<boolean>;
  /** Milliseconds since epoch. */
  now: () => number;
}

/** The usage service. */
export type UsageService = ReturnType<typeof createUsageService>;

/** Counts of nothing. */
export function zeroCounts(): UsageCounts {
  return Object.fromEntries(USAGE_OUTCOMES.map((o) => [o, 0])) as UsageCounts;
}

function addTo(total: UsageCounts, counts: Partial<UsageCounts>) {
  for (const o of USAGE_OUTCOMES) total[o] += counts[o] ?? 0;
}

/** The granularity a window gets when none is asked for: at most a few hundred periods. */
function defaultGranularity(seconds: number): UsageGranularity {
  if (seconds <= 2 * 3600) return 'minute';
  if (seconds <= 7 * DAY) return 'hour';
  return 'day';
}

const invalid = (field: string, message: string): KeyResult<never> => ({
  ok: false,
  failure: { code: 'validation_failed', field, message },
});

/** Creates the usage service. */
export function createUsageService(options: UsageServiceOptions) {
  const { transactor, usage, now } = options;
  const nowSeconds = () => Math.floor(now() / 1000);

  return {
    /** Applies a usage report once: a report applied before adds nothing. */
    async ingest(report: UsageReport): Promise<IngestResult> {
      const added = zeroCounts();
      let unknownKeys = 0;
      const applied = await transactor.run(async () => {
        if (!(await usage.markApplied(report.id, now()))) return false;
        for (const minute of report.minutes) {
          for (const [keyId, counts] of Object.entries(minute.keys)) {
            if (!(await options.keyExists(keyId))) {
              unknownKeys++;
              continue;
            }
            await usage.add(keyId, minute.at, counts);
            addTo(added, counts);
          }
        }
        return true;
      });
      return { result: applied ? 'applied' : 'duplicate', added, unknownKeys };
    },

    /** A key's usage in periods of `granularity` over [from, to) (default: the last 24 hours). */
    async keyUsage(key: Pick<KeyRecord, 'id'>, query: KeyUsageQuery): Promise<KeyResult<KeyUsage>> {
      const to = query.to ?? nowSeconds();
      const from = query.from ?? to - DAY;
      if (from >= to) return invalid('from', 'must be before to');
      const granularity = query.granularity ?? defaultGranularity(to - from);
      const size = GRANULARITY_SECONDS[granularity];
      const start = Math.floor(from / size) * size;
      const periods = Math.ceil((to - start) / size);
      if (periods > MAX_BUCKETS) {
        return invalid('granularity', `${periods} ${granularity}s between from and to; at most ${MAX_BUCKETS}: ask for a coarser granularity or a shorter window`);
      }
      const stored = new Map((await usage.series(key.id, granularity, start, to)).map((b) => [b.at, b.counts]));
      const totals = zeroCounts();
      const items: UsageBucket[] = [];
      for (let at = start; at < to; at += size) {
        const counts = stored.get(at) ?? zeroCounts();
        addTo(totals, counts);
        items.push({ at, counts });
      }
      return { ok: true, value: { granularity, from: start, to, items, totals } };
    },

    /** The keys with the most `by` requests in the last `windowSeconds`, optionally of one user id. */
    async top(query: { by: UsageOutcome; windowSeconds: number; limit: number; ownerId?: string }): Promise<TopUsage> {
      const to = nowSeconds();
      let from = to - query.windowSeconds;
      // Minute rows are gone past their retention: a longer window starts at a whole hour.
      if (query.windowSeconds > MINUTE_RETENTION_SECONDS) from = Math.floor(from / 3600) * 3600;
      const items = await usage.top({ by: query.by, from, to, limit: query.limit, ...(query.ownerId !== undefined ? { ownerId: query.ownerId } : {}) });
      return { from, to, items };
    },

    /** Deletes up to `limit` rows past their retention; returns how many. */
    prune(limit = 5000): Promise<number> {
      const t = nowSeconds();
      return usage.prune(
        {
          minutesBefore: t - MINUTE_RETENTION_SECONDS,
          hoursBefore: t - HOUR_RETENTION_SECONDS,
          reportsBeforeMs: (t - REPORT_ID_RETENTION_SECONDS) * 1000,
        },
        limit,
      );
    },
  };
}
