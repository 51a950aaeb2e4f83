/**
 * When the verifier may answer: never before the key stream is replayed, and not once it has
 * been out of touch with the stream for longer than the staleness bound (it would otherwise keep
 * accepting keys that were revoked meanwhile). Within the bound it serves from what it has.
 */
import type { KeyEventFeed } from '@akm/common';
import type { RateLimiter } from './rate-limiter.js';

/** Where the verifier stands. */
export interface ReadinessReport {
  ready: boolean;
  replayed: boolean;
  connected: boolean;
  /** Seconds since the last contact with the key stream (0 while connected). */
  stalenessSeconds: number;
  /** Why it is not ready. */
  detail?: string;
  /** Where rate limits are counted right now (see {@link RateLimiter.counting}); informative, never a reason to be unready. */
  rateLimits?: 'shared' | 'local';
}

/** Options of {@link createReadiness}. */
export interface ReadinessOptions {
  feed: KeyEventFeed;
  /** The clock, milliseconds since epoch. */
  now: () => number;
  /** Seconds without contact after which the verifier refuses every request. */
  maxStalenessSeconds: number;
}

/** Tracks replay and staleness. */
export interface Readiness {
  /** Records that the feed's replay is complete. */
  markReplayed(): void;
  check(): ReadinessReport;
}

/** Creates the readiness tracker of a verifier. */
export function createReadiness(options: ReadinessOptions): Readiness {
  let replayed = false;
  return {
    markReplayed() {
      replayed = true;
    },
    check() {
      const status = options.feed.status();
      const stalenessMs = status.connected ? 0 : Math.max(0, options.now() - status.lastContactAt);
      const stalenessSeconds = Math.floor(stalenessMs / 1000);
      const base = { replayed, connected: status.connected, stalenessSeconds };
      if (!replayed) {
        return { ...base, ready: false, detail: status.connected ? 'key stream replay in progress' : 'not connected to the key stream yet' };
      }
      if (stalenessMs > options.maxStalenessSeconds * 1000) {
        return {
          ...base,
          ready: false,
          detail: `key stream out of touch for ${stalenessSeconds}s (bound ${options.maxStalenessSeconds}s)`,
        };
      }
      return { ...base, ready: true };
    },
  };
}
