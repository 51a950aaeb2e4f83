/**
 * Users in SQLite: name, password hash (never the password), role and status.
 */
import type { Role } from '../../../common/src/index.js';
import type { Db } from './database.js';

/** Status of a user account. */
export type UserStatus = 'active' | 'disabled';

/** A stored user. */
export interface UserRecord {
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
}

interface UserRow {
  username: string;
  password_hash: string;
  role: Role;
  status: UserStatus;
  created_at: number;
  updated_at: number;
  session_epoch: string;
}

const toRecord = (r: UserRow): UserRecord => ({
  username: r.username,
  passwordHash: r.password_hash,
  role: r.role,
  status: r.status,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  sessionEpoch: r.session_epoch,
});

/** Reads and writes users. */
export interface UserRepository {
  count(): number;
  /** Active admins other than `username`. */
  otherActiveAdmins(username: string): number;
  get(username: string): UserRecord | undefined;
  /** One page ordered by name, after `afterName` (exclusive). */
  list(limit: number, afterName?: string): UserRecord[];
  insert(user: UserRecord): void;
  update(user: UserRecord): void;
  delete(username: string): void;
}

/** Creates the user repository. */
export function createUserRepository(db: Db): UserRepository {
  const count = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM users');
  const others = db.prepare<[string], { n: number }>(
    "SELECT count(*) AS n FROM users WHERE role = 'admin' AND status = 'active' AND username != ?",
  );
  const get = db.prepare<[string], UserRow>('SELECT * FROM users WHERE username = ?');
  const list = db.prepare<[string, number], UserRow>('SELECT * FROM users WHERE username > ? ORDER BY username LIMIT ?');
  const insert = db.prepare(
    `INSERT INTO users (username, password_hash, role, status, created_at, updated_at, session_epoch)
     VALUES (@username, @passwordHash, @role, @status, @createdAt, @updatedAt, @sessionEpoch)`,
  );
  const update = db.prepare(
    `UPDATE users SET password_hash = @passwordHash, role = @role, status = @status, updated_at = @updatedAt,
       session_epoch = @sessionEpoch
     WHERE username = @username`,
  );
  const remove = db.prepare('DELETE FROM users WHERE username = ?');
  return {
    count: () => count.get()?.n ?? 0,
    otherActiveAdmins: (username) => others.get(username)?.n ?? 0,
    get: (username) => {
      const row = get.get(username);
      return row && toRecord(row);
    },
    list: (limit, afterName = '') => list.all(afterName, limit).map(toRecord),
    insert: (user) => void insert.run(user),
    update: (user) => void update.run(user),
    delete: (username) => void remove.run(username),
  };
}
