/**
 * The sign-in guard's counts in PostgreSQL, so that its limits hold across issuer replicas: an
 * attempt counts the same whichever replica it reaches. Each step of the guard is one
 * transaction holding a transaction-scoped advisory lock, so the check and the count of one
 * attempt are never split by another's (they take turns for a few ms). The steps of one issuer
 * also take turns before they take a connection: a transaction waiting for the lock holds a pool
 * connection, so a flood of sign-ins would otherwise hold all of them and starve every other
 * request; this way the guard holds at most one connection per issuer.
 * Expired rows are deleted as the guard reads its size (the metrics scrape) and by each write.
 */
import type { AttemptWindows } from '../domain/attempt-windows.js';
import type { KnownAddresses, LoginGuardStore } from '../domain/login-guard.js';
import type { SqlClient } from './sql-client.js';

/** Advisory lock key of the guard's steps. */
const LOGIN_LOCK = 0x616b6d04;

/** Creates the guard store over the issuer's PostgreSQL client (migrations made its tables). */
export function createPostgresLoginGuardStore(db: SqlClient, now: () => number): LoginGuardStore {
  /** The end of this issuer's latest guard step: the next one starts after it. */
  let turns: Promise<unknown> = Promise.resolve();
  return {
    windows(kind, { limit, windowMs }): AttemptWindows {
      return {
        async waitMs(key) {
          const t = now();
          const row = await db.get<{ used: number; ends_at: number }>(
            'SELECT used, ends_at FROM login_windows WHERE kind = ? AND key = ? AND ends_at > ?',
            [kind, key, t],
          );
          return row && row.used >= limit ? row.ends_at - t : 0;
        },
        async add(key) {
          const t = now();
          await db.run(
            `INSERT INTO login_windows (kind, key, used, ends_at) VALUES (?, ?, 1, ?)
             ON CONFLICT (kind, key) DO UPDATE SET
               used = CASE WHEN login_windows.ends_at > ? THEN login_windows.used + 1 ELSE 1 END,
               ends_at = CASE WHEN login_windows.ends_at > ? THEN login_windows.ends_at ELSE excluded.ends_at END`,
            [kind, key, t + windowMs, t, t],
          );
        },
        async giveBack(key) {
          await db.run('UPDATE login_windows SET used = used - 1 WHERE kind = ? AND key = ? AND ends_at > ?', [kind, key, now()]);
          await db.run('DELETE FROM login_windows WHERE kind = ? AND key = ? AND used <= 0', [kind, key]);
        },
        async delete(key) {
          await db.run('DELETE FROM login_windows WHERE kind = ? AND key = ?', [kind, key]);
        },
        async deletePrefix(prefix) {
          await db.run('DELETE FROM login_windows WHERE kind = ? AND left(key, ?) = ?', [kind, prefix.length, prefix]);
        },
        async size() {
          await db.run('DELETE FROM login_windows WHERE kind = ? AND ends_at <= ?', [kind, now()]);
          return (await db.get<{ n: number }>('SELECT count(*) AS n FROM login_windows WHERE kind = ?', [kind]))?.n ?? 0;
        },
      };
    },
    known({ knownMs, perUser }): KnownAddresses {
      return {
        async isKnown(user, address) {
          return (await db.get('SELECT 1 AS one FROM login_known WHERE username = ? AND address = ? AND until > ?', [user, address, now()])) !== undefined;
        },
        async remember(user, address) {
          const t = now();
          await db.run(
            'INSERT INTO login_known (username, address, until) VALUES (?, ?, ?) ON CONFLICT (username, address) DO UPDATE SET until = excluded.until',
            [user, address, t + knownMs],
          );
          // The latest `perUser` live addresses stay; older and expired ones go.
          await db.run(
            `DELETE FROM login_known WHERE username = ? AND (until <= ? OR address NOT IN (
               SELECT address FROM login_known WHERE username = ? ORDER BY until DESC LIMIT ?))`,
            [user, t, user, perUser],
          );
        },
        async size() {
          await db.run('DELETE FROM login_known WHERE until <= ?', [now()]);
          return (await db.get<{ n: number }>('SELECT count(*) AS n FROM login_known'))?.n ?? 0;
        },
      };
    },
    atomically(work) {
      const step = turns.then(() =>
        db.transaction(async () => {
          await db.get('SELECT pg_advisory_xact_lock(?)', [LOGIN_LOCK]);
          return work();
        }),
      );
      turns = step.catch(() => undefined);
      return step;
    },
  };
}
