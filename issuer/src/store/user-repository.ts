/**
 * Users in the database: name, password hash (never the password), role and status.
 */
import type { Role } from '@akm/common';
import type { KeyPolicy } from '../domain/key-policy.js';
import type { UserRecord, UserRepository, UserStatus } from '../domain/user-record.js';
import type { SqlClient } from './sql-client.js';

/** Advisory lock key of changes to users. */
const USERS_LOCK = 0x616b6d06;

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

const policyColumn = (u: UserRecord) => (u.keyPolicy === null ? null : JSON.stringify(u.keyPolicy));

/** Creates the user repository over a database client. */
export function createUserRepository(db: SqlClient): UserRepository {
  const get = async (username: string) => {
    const row = await db.get<UserRow>('SELECT * FROM users WHERE username = ?', [username]);
    return row && toRecord(row);
  };
  return {
    count: async () => (await db.get<{ n: number }>('SELECT count(*) AS n FROM users'))?.n ?? 0,
    otherActiveAdmins: async (username) =>
      (await db.get<{ n: number }>("SELECT count(*) AS n FROM users WHERE role = 'admin' AND status = 'active' AND username != ?", [username]))
        ?.n ?? 0,
    get,
    list: async (limit, afterName = '') =>
      (await db.all<UserRow>('SELECT * FROM users WHERE username > ? ORDER BY username LIMIT ?', [afterName, limit])).map(toRecord),
    async insert(u) {
      return (await db.run(
        `INSERT INTO users (id, username, password_hash, role, status, created_at, updated_at, session_epoch, key_policy)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (username) DO NOTHING`,
        [u.id, u.username, u.passwordHash, u.role, u.status, u.createdAt, u.updatedAt, u.sessionEpoch, policyColumn(u)],
      )) === 1;
    },
    async update(u) {
      await db.run(
        'UPDATE users SET password_hash = ?, role = ?, status = ?, updated_at = ?, session_epoch = ?, key_policy = ? WHERE username = ?',
        [u.passwordHash, u.role, u.status, u.updatedAt, u.sessionEpoch, policyColumn(u), u.username],
      );
    },
    async hold() {
      // SQLite: the write transaction (BEGIN IMMEDIATE) already keeps every other writer out.
      if (db.dialect === 'postgres') await db.get('SELECT pg_advisory_xact_lock(?)', [USERS_LOCK]);
    },
    async delete(username) {
      await db.run('DELETE FROM users WHERE username = ?', [username]);
    },
  };
}
