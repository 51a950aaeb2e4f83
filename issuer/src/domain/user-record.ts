/**
 * A stored user and the repository the user service needs (a port: `store/` implements it).
 * Passwords are kept as hashes only.
 */
import type { Role } from '@akm/common';
import type { KeyPolicy } from './key-policy.js';

/** Status of a user account. */
export type UserStatus = 'active' | 'disabled';

/** A stored user. */
export interface UserRecord {
  /** Stable, never reused: keys belong to it, not to the name, which may be deleted and taken again. */
  id: string;
  username: string;
  passwordHash: string;
  role: Role;
  status: UserStatus;
  /** Milliseconds since epoch. */
  createdAt: number;
  updatedAt: number;
  /**
   * Carried by each sign-in token (claim `sv`); a token with another is refused. A new random
   * value when the user is created and whenever its password, role or status changes.
   */
  sessionEpoch: string;
  /** Within what bounds the user creates keys of their own; null: they do not (an admin does). */
  keyPolicy: KeyPolicy | null;
}

/** Reads and writes users. */
export interface UserRepository {
  count(): Promise<number>;
  /** Active admins other than `username`. */
  otherActiveAdmins(username: string): Promise<number>;
  get(username: string): Promise<UserRecord | undefined>;
  /** One page ordered by name, after `afterName` (exclusive). */
  list(limit: number, afterName?: string): Promise<UserRecord[]>;
  /** Adds a user; false (nothing added) when the name is taken, e.g. by another replica just now. */
  insert(user: UserRecord): Promise<boolean>;
  update(user: UserRecord): Promise<void>;
  /**
   * Inside a transaction: until it ends, another transaction that does the same waits, so that
   * what a change read (a user, the count of active admins) stays true until it is written
   * (replicas on one database would otherwise each change a user from what they read before).
   */
  hold(): Promise<void>;
  delete(username: string): Promise<void>;
}
