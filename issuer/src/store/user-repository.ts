/**
 * Users in SQLite: name, password hash (never the password), role and status.
 */
import type { Role } from '@akm/common';
import type { KeyPolicy } from '../domain/key-policy.js';
import type { UserRecord, UserRepository, UserStatus } from '../domain/user-record.js';
import type { Db } from './database.js';

interface UserRow {
  id: string;
  username: string;
  password_hash: string;
  role: Role;
  status: UserStatus;
  created_at: number;
  updated_at: number;
  session_epoch: string;
  key_policy: string | null;
}

const toRecord = (r: UserRow): UserRecord => ({
  id: r.id,
  username: r.username,
  passwordHash: r.password_hash,
  role: r.role,
  status: r.status,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  sessionEpoch: r.session_epoch,
  keyPolicy: r.key_policy === null ? null : (JSON.parse(r.key_policy) as KeyPolicy),
});

const toRow = (user: UserRecord) => ({ ...user, keyPolicy: user.keyPolicy === null ? null : JSON.stringify(user.keyPolicy) });

/** Creates the user repository. */
export function createUserRepository(db: Db): UserRepository {
  const count = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM users');
  const others = db.prepare<[string], { n: number }>(
    "SELECT count(*) AS n FROM users WHERE role = 'admin' AND status = 'active' AND username != ?",
  );
  const get = db.prepare<[string], UserRow>('SELECT * FROM users WHERE username = ?');
  const idOf = db.prepare<[string], { id: string }>('SELECT id FROM users WHERE username = ?');
  const list = db.prepare<[string, number], UserRow>('SELECT * FROM users WHERE username > ? ORDER BY username LIMIT ?');
  const insert = db.prepare(
    `INSERT INTO users (id, username, password_hash, role, status, created_at, updated_at, session_epoch, key_policy)
     VALUES (@id, @username, @passwordHash, @role, @status, @createdAt, @updatedAt, @sessionEpoch, @keyPolicy)`,
  );
  const update = db.prepare(
    `UPDATE users SET password_hash = @passwordHash, role = @role, status = @status, updated_at = @updatedAt,
       session_epoch = @sessionEpoch, key_policy = @keyPolicy
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
    idOf: (username) => idOf.get(username)?.id,
    list: (limit, afterName = '') => list.all(afterName, limit).map(toRecord),
    insert: (user) => void insert.run(toRow(user)),
    update: (user) => void update.run(toRow(user)),
    delete: (username) => void remove.run(username),
  };
}
