/**
 * A key's stored metadata and the repository the key service needs (a port: `store/`
 * implements it). The key string itself is never stored.
 */
import type { KeyStatus, Role } from '@akm/common';

/** A key's stored metadata. */
export interface KeyRecord {
  id: string;
  sub: string;
  role: Role;
  name: string | null;
  meta: Record<string, unknown> | null;
  /** Requests per minute. */
  rateLimit: number;
  /** Seconds since epoch. */
  expiresAt: number;
  /** Milliseconds since epoch. */
  createdAt: number;
  /** Milliseconds since epoch. */
  updatedAt: number;
  status: KeyStatus;
  /** Incremented on every change; carried in events so consumers can ignore stale ones. */
  version: number;
  /** The signing key that signed it. */
  kid: string;
}

/** Filters of {@link KeyRepository.list}. */
export interface KeyListQuery {
  sub?: string;
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
  insert(record: KeyRecord): void;
  get(id: string): KeyRecord | undefined;
  /** One page, newest first, and the position to continue from (undefined on the last page). */
  list(query: KeyListQuery): { items: KeyRecord[]; next: number | undefined };
  /** Replaces the mutable fields of a key. */
  update(record: KeyRecord): void;
  /** Active and disabled keys of an owner (for disabling or revoking a user's keys). */
  liveKeysOf(sub: string): KeyRecord[];
}
