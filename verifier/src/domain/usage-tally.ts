/**
 * The verifier's usage counts in memory: per minute, per key, per outcome. Recording a request
 * is one increment of a typed-array cell (a key's first request in a flush interval allocates
 * its row); `drain` hands everything counted so far to the reporter and starts afresh.
 */
import { USAGE_OUTCOMES, type UsageCounts, type UsageOutcome, type UsageReport } from '@akm/common';
import type { Outcome } from './verdict.js';

/** Which usage outcome each request outcome counts as; outcomes not listed are not counted per key. */
const INDEX: Partial<Record<Outcome, number>> = {
  ok: USAGE_OUTCOMES.indexOf('served'),
  rate_limited: USAGE_OUTCOMES.indexOf('rate_limited'),
  credits_exhausted: USAGE_OUTCOMES.indexOf('credits_exhausted'),
  forbidden: USAGE_OUTCOMES.indexOf('forbidden'),
  insufficient_scope: USAGE_OUTCOMES.indexOf('forbidden'),
  revoked: USAGE_OUTCOMES.indexOf('revoked'),
  disabled: USAGE_OUTCOMES.indexOf('disabled'),
  expired: USAGE_OUTCOMES.indexOf('expired'),
};
const WIDTH = USAGE_OUTCOMES.length;

/** One minute's counts: start of the minute (seconds since epoch) and counts by key id. */
export type UsageMinute = UsageReport['minutes'][number];

/** Options of {@link createUsageTally}. */
export interface UsageTallyOptions {
  /** The clock, milliseconds since epoch. */
  now: () => number;
  /**
   * Most minutes held while they cannot be handed over (the bus is down); beyond it the oldest
   * minute is dropped and its requests reported to `onDropped`. Default 60.
   */
  maxMinutes?: number;
  /** Called with the number of requests of a dropped minute. */
  onDropped?: (requests: number) => void;
}

/** Per-key, per-minute request counts. */
export interface UsageTally {
  /** Counts one decided request of `keyId`. Outcomes that are not per key are ignored. */
  record(keyId: string, outcome: Outcome): void;
  /** Everything counted since the last drain, oldest minute first; the tally is empty after. */
  drain(): UsageMinute[];
  /** Requests counted and not drained yet. */
  pending(): number;
}

/** Creates an empty tally. */
export function createUsageTally(options: UsageTallyOptions): UsageTally {
  const maxMinutes = options.maxMinutes ?? 60;
  const minutes = new Map<number, Map<string, Uint32Array>>();
  let currentMinute = -1;
  let current = new Map<string, Uint32Array>();

  function roll(minute: number) {
    currentMinute = minute;
    const known = minutes.get(minute);
    if (known) return void (current = known);
    current = new Map();
    minutes.set(minute, current);
    while (minutes.size > maxMinutes) {
      const oldest = Math.min(...minutes.keys());
      options.onDropped?.(requestsOf(minutes.get(oldest)!));
      minutes.delete(oldest);
    }
  }

  return {
    record(keyId, outcome) {
      const index = INDEX[outcome];
      if (index === undefined) return;
      const minute = Math.floor(options.now() / 60_000);
      if (minute !== currentMinute) roll(minute);
      let row = current.get(keyId);
      if (!row) current.set(keyId, (row = new Uint32Array(WIDTH)));
      row[index]!++;
    },
    drain() {
      const drained: UsageMinute[] = [];
      for (const minute of [...minutes.keys()].sort((a, b) => a - b)) {
        const keys: Record<string, Partial<UsageCounts>> = {};
        for (const [keyId, row] of minutes.get(minute)!) keys[keyId] = countsOf(row);
        drained.push({ at: minute * 60, keys });
      }
      minutes.clear();
      currentMinute = -1;
      current = new Map();
      return drained;
    },
    pending() {
      let n = 0;
      for (const keys of minutes.values()) n += requestsOf(keys);
      return n;
    },
  };
}

function countsOf(row: Uint32Array): Partial<UsageCounts> {
  const counts: Partial<UsageCounts> = {};
  for (let i = 0; i < WIDTH; i++) if (row[i]) counts[USAGE_OUTCOMES[i] as UsageOutcome] = row[i]!;
  return counts;
}

function requestsOf(keys: Map<string, Uint32Array>): number {
  let n = 0;
  for (const row of keys.values()) for (const c of row) n += c;
  return n;
}
