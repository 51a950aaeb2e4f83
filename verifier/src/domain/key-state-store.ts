/**
 * The verifier's in-memory view of every live key, built from key events: the state of a key
 * (status, rate limit, expiry) overrides what its signed claims say. Memory is bounded by live
 * keys: an entry is dropped once its key would be refused anyway, found through a min-heap of
 * due times, so neither a lookup nor an update ever scans the map.
 */
import type { KeyEvent, KeyStatus, Role } from '../../../common/src/index.js';
import { ExpiryHeap } from './expiry-heap.js';

/** What the verifier knows about one key from its latest event. */
export interface KeyState {
  keyId: string;
  sub: string;
  role: Role;
  status: KeyStatus;
  /** Requests per minute. */
  rateLimit: number;
  /** Seconds since epoch; overrides the signed `exp` in both directions. */
  expiresAt: number;
  version: number;
  /** When the latest change happened, milliseconds since epoch. */
  changedAt: number;
}

/** Options of {@link createKeyStateStore}. */
export interface KeyStateStoreOptions {
  /** The clock, milliseconds since epoch. */
  now: () => number;
  /**
   * How long an entry outlives its key's expiry (and its latest change), in seconds. It must be
   * at least the grace the verifier gives keys it has no state for, so that a key whose entry
   * was dropped is never taken for a brand-new key.
   */
  retainSeconds: number;
}

/** Key states by key id. */
export interface KeyStateStore {
  /** Applies an event; returns false when it is not newer than the state held (ignored). */
  apply(event: KeyEvent): boolean;
  /** The state of a key, if held. */
  get(keyId: string): KeyState | undefined;
  /** Number of keys held. */
  size(): number;
}

interface Entry {
  state: KeyState;
  dropAt: number;
}

/** Creates an empty key-state store. */
export function createKeyStateStore(options: KeyStateStoreOptions): KeyStateStore {
  const entries = new Map<string, Entry>();
  const due = new ExpiryHeap();

  function sweep(): void {
    const now = options.now();
    for (let next = due.popDue(now); next; next = due.popDue(now)) {
      // A heap entry is current only if the key was not updated since it was scheduled.
      if (entries.get(next.id)?.dropAt === next.at) entries.delete(next.id);
    }
  }

  function compact(): void {
    if (due.size <= 2 * entries.size + 1024) return;
    due.retain((e) => entries.get(e.id)?.dropAt === e.at);
  }

  return {
    apply(event) {
      sweep();
      const held = entries.get(event.keyId);
      if (held && held.state.version >= event.version) return false;
      const state: KeyState = {
        keyId: event.keyId,
        sub: event.sub,
        role: event.role,
        status: event.status,
        rateLimit: event.rateLimit,
        expiresAt: event.expiresAt,
        version: event.version,
        changedAt: event.at,
      };
      const lastRelevantS = Math.max(event.expiresAt, Math.ceil(event.at / 1000));
      const dropAt = (lastRelevantS + options.retainSeconds) * 1000;
      entries.set(event.keyId, { state, dropAt });
      due.push({ at: dropAt, id: event.keyId });
      compact();
      sweep();
      return true;
    },
    get(keyId) {
      sweep();
      return entries.get(keyId)?.state;
    },
    size() {
      sweep();
      return entries.size;
    },
  };
}
