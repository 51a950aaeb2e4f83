/**
 * The verifier's in-memory view of every live key, built from key events: the state of a key
 * (status, rate limit, expiry) overrides what its signed claims say. Memory is bounded by live
 * keys: an entry is dropped once its key would be refused anyway, found through a min-heap of
 * due times, so neither a lookup nor an update ever scans the map.
 *
 * A verifier holds one entry per live key (a million is an ordinary cold start), so entries are
 * not objects: a key id maps to a slot, and each field is a column of typed arrays indexed by
 * slot. That keeps an entry near 150 bytes instead of ~310 with an object, two boxed
 * timestamps and a heap node per key (bench/cold-start.ts measures it), and gives the garbage
 * collector a few large arrays to skip instead of millions of small objects to trace.
 */
import { KEY_STATUSES, ROLES, type CreditGrant, type KeyEvent, type KeyStatus, type RateLimitSpec, type Role } from '@akm/common';
import { ExpiryHeap } from './expiry-heap.js';
import { createLimitSets } from './limit-sets.js';

/** What the verifier knows about one key from its latest event. */
export interface KeyState {
  keyId: string;
  sub: string;
  role: Role;
  status: KeyStatus;
  /** Requests per minute of a key with one limit (the first limit's count otherwise). */
  rateLimit: number;
  /** Every limit of the key (shared, frozen). */
  limits: readonly RateLimitSpec[];
  /** The key's credits, when it has any. */
  credits?: CreditGrant;
  /**
   * Seconds since epoch when the key stops working: its expiry (which overrides the signed `exp`
   * in both directions), or the end of a roll's grace period when that comes first.
   */
  expiresAt: number;
  /** True when {@link expiresAt} is the end of a roll's grace: from then on the key is revoked, not expired. */
  rolledOut: boolean;
  version: number;
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

const INITIAL_SLOTS = 1024;
/** Bit of `kind`: the entry's `expiresAt` is a roll's revocation time, not the key's expiry. */
const ROLLED = 0x80;

/** The columns of every entry, indexed by slot. */
class Columns {
  /** `ROLLED | role index << 4 | status index`. */
  kind = new Uint8Array(INITIAL_SLOTS);
  rateLimit = new Float64Array(INITIAL_SLOTS);
  /** Index of the key's set of limits in the store's {@link createLimitSets} table. */
  limitSet = new Uint32Array(INITIAL_SLOTS);
  expiresAt = new Float64Array(INITIAL_SLOTS);
  version = new Float64Array(INITIAL_SLOTS);
  /** Milliseconds since epoch when the entry is dropped. */
  dropAt = new Float64Array(INITIAL_SLOTS);
  keyId: (string | undefined)[] = [];
  sub: (string | undefined)[] = [];

  get capacity(): number {
    return this.kind.length;
  }

  grow(): void {
    const capacity = Math.ceil(this.capacity * 1.5);
    this.kind = copyInto(new Uint8Array(capacity), this.kind);
    this.rateLimit = copyInto(new Float64Array(capacity), this.rateLimit);
    this.limitSet = copyInto(new Uint32Array(capacity), this.limitSet);
    this.expiresAt = copyInto(new Float64Array(capacity), this.expiresAt);
    this.version = copyInto(new Float64Array(capacity), this.version);
    this.dropAt = copyInto(new Float64Array(capacity), this.dropAt);
  }
}

function copyInto<T extends Uint8Array | Uint32Array | Float64Array>(to: T, from: T): T {
  to.set(from);
  return to;
}

/** Creates an empty key-state store. */
export function createKeyStateStore(options: KeyStateStoreOptions): KeyStateStore {
  const slots = new Map<string, number>();
  const cols = new Columns();
  const free: number[] = [];
  let used = 0;
  const due = new ExpiryHeap();
  const limitSets = createLimitSets();
  // Few keys have credits: a map of those only, so the others pay nothing for them.
  const credits = new Map<string, CreditGrant>();

  /** A heap entry is current only if its slot is held and was not rescheduled since. */
  const current = (at: number, slot: number) => cols.keyId[slot] !== undefined && cols.dropAt[slot] === at;

  function release(slot: number): void {
    slots.delete(cols.keyId[slot]!);
    credits.delete(cols.keyId[slot]!);
    cols.keyId[slot] = undefined;
    cols.sub[slot] = undefined;
    free.push(slot);
  }

  function sweep(): void {
    const now = options.now();
    while (due.peekAt() <= now) {
      const slot = due.peekSlot();
      if (current(due.peekAt(), slot)) release(slot);
      due.pop();
    }
  }

  function compact(): void {
    if (due.size <= 2 * slots.size + 1024) return;
    due.retain(current);
  }

  function allocate(keyId: string): number {
    let slot = free.pop();
    if (slot === undefined) {
      if (used === cols.capacity) cols.grow();
      slot = used++;
    }
    slots.set(keyId, slot);
    cols.keyId[slot] = keyId;
    return slot;
  }

  return {
    apply(event) {
      sweep();
      let slot = slots.get(event.keyId);
      if (slot !== undefined && cols.version[slot]! >= event.version) return false;
      slot ??= allocate(event.keyId);
      // Both in seconds since epoch (version 1 events, with `at` in milliseconds, are converted when parsed).
      const lastRelevantS = Math.max(event.expiresAt, event.at);
      const dropAt = (lastRelevantS + options.retainSeconds) * 1000;
      // A roll's end needs no column of its own: it is the key's end, as revoked rather than expired.
      const rolled = event.revokeAt !== undefined && event.revokeAt <= event.expiresAt;
      cols.kind[slot] = (rolled ? ROLLED : 0) | (ROLES.indexOf(event.role) << 4) | KEY_STATUSES.indexOf(event.status);
      cols.rateLimit[slot] = event.rateLimit;
      cols.limitSet[slot] = limitSets.idOf(event.limits, event.rateLimit);
      if (event.credits) credits.set(event.keyId, event.credits);
      else credits.delete(event.keyId);
      cols.expiresAt[slot] = rolled ? event.revokeAt! : event.expiresAt;
      cols.version[slot] = event.version;
      cols.dropAt[slot] = dropAt;
      cols.sub[slot] = event.sub;
      due.push(dropAt, slot);
      compact();
      sweep();
      return true;
    },
    get(keyId) {
      sweep();
      const slot = slots.get(keyId);
      if (slot === undefined) return undefined;
      const kind = cols.kind[slot]!;
      const granted = credits.get(keyId);
      return {
        ...(granted ? { credits: granted } : {}),
        keyId,
        sub: cols.sub[slot]!,
        role: ROLES[(kind >> 4) & 0x7]!,
        status: KEY_STATUSES[kind & 0xf]!,
        rateLimit: cols.rateLimit[slot]!,
        limits: limitSets.get(cols.limitSet[slot]!),
        expiresAt: cols.expiresAt[slot]!,
        rolledOut: (kind & ROLLED) !== 0,
        version: cols.version[slot]!,
      };
    },
    size() {
      sweep();
      return slots.size;
    },
  };
}
