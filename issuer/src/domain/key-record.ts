/**
 * A key's stored metadata and the repository the key service needs (a port: `store/`
 * implements it). The key string itself is never stored.
 */
import type { CreditGrant, KeyStatus, RateLimitSpec, Role } from '@akm/common';

/** A key's stored metadata. */
export interface KeyRecord {
  id: string;
  sub: string;
  /**
   * Id of the user `sub` named when the key was issued; null when it named no user (a service).
   * Self-service (`/me/keys`) goes by this, never by `sub`, which a new user may share.
   */
  ownerId: string | null;
  role: Role;
  name: string | null;
  meta: Record<string, unknown> | null;
  /** The first limit's count: requests per minute for a key with the one `default` limit (signed as `rate_limit`). */
  rateLimit: number;
  /** Every limit of the key (1 to 5); a request must fit all of them. */
  limits: readonly RateLimitSpec[];
  /** The key's credits, a grant verifiers count down (shared by the keys a roll made of it); null: unlimited. */
  credits: CreditGrant | null;
  /** What the key may do besides its role (its signed `scope` claim): fixed when issued. */
  scopes: readonly string[];
  /** Seconds since epoch. */
  expiresAt: number;
  /** Milliseconds since epoch. */
  createdAt: number;
  /** Milliseconds since epoch. */
  updatedAt: number;
  status: KeyStatus;
  /**
   * Seconds since epoch when a rolled key stops working (refused as revoked from then on, with
   * no further change); null for a key never rolled.
   */
  revokeAt: number | null;
  /** The key that replaced this one in a roll; null until it is rolled. */
  rolledTo: string | null;
  /** The key this one replaced in a roll; null for a key issued afresh. */
  rolledFrom: string | null;
  /** Incremented on every change; carried in events so consumers can ignore stale ones. */
  version: number;
  /** The signing key that signed it. */
  kid: string;
}

/** Filters of {@link KeyRepository.list}. */
export interface KeyListQuery {
  sub?: string;
  /** Keys of this user id only. */
  ownerId?: string;
  /** `expired` selects active keys past their expiry. */
  status?: KeyStatus | 'expired';
  /** Seconds since epoch, to tell expired keys apart. */
  nowSeconds: number;
  /** Continue after this position (exclusive); newest first. */
  beforeSeq?: number;
  limit: number;
}

/** Reads and writes key metadata. Callers group writes in a transaction with the outbox. */
export interface KeyRepository {
  insert(record: KeyRecord): Promise<void>;
  get(id: string): Promise<KeyRecord | undefined>;
  /** One page, newest first, and the position to continue from (undefined on the last page). */
  list(query: KeyListQuery): Promise<{ items: KeyRecord[]; next: number | undefined }>;
  /**
   * Replaces the mutable fields of a key whose stored version is `record.version - 1`; false
   * (nothing changed) when another change got there first.
   */
  update(record: KeyRecord): Promise<boolean>;
  /** Active and disabled keys of a user id (for disabling or revoking a user's keys). */
  liveKeysOf(ownerId: string): Promise<KeyRecord[]>;
  /**
   * Inside a transaction: until it ends, another transaction that does the same for `ownerId`
   * waits, so that a count of the owner's keys stays true until the key admitted by it is stored
   * (replicas on one database would otherwise each admit a key under a bound).
   */
  holdOwner(ownerId: string): Promise<void>;
}

/** What a key needs to know of the user it belongs to. */
export interface KeyOwner {
  id: string;
  role: Role;
  status: 'active' | 'disabled';
}

/**
 * Whether a key of `role` is no more than `owner` (undefined: no user has the key's name): an
 * `admin` key acts as one only for an active admin user.
 */
export function ownerMayHold(owner: KeyOwner | undefined, role: Role): boolean {
  return role !== 'admin' || (owner?.status === 'active' && owner.role === 'admin');
}

/** Who is a user (a port: the user store implements it), so that a key records its owner's id. */
export interface KeyOwners {
  /** The user named `sub` as stored now, or undefined when no user has that name. */
  get(sub: string): Promise<KeyOwner | undefined>;
}
