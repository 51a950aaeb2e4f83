/**
 * Ended sign-in tokens in SQLite (`ended_sessions`): one row per signed-out token id until its
 * expiry, so the table never holds more than a sign-in lifetime of sign-outs.
 */
import type { EndedSessions } from '../domain/ended-sessions.js';
import type { Db } from './database.js';

/** Creates the ended-sessions store over an open database. */
export function createEndedSessionRepository(db: Db): EndedSessions {
  const insert = db.prepare('INSERT OR IGNORE INTO ended_sessions (jti, expires_at) VALUES (?, ?)');
  const purge = db.prepare('DELETE FROM ended_sessions WHERE expires_at <= ?');
  const find = db.prepare<[string], { one: number }>('SELECT 1 AS one FROM ended_sessions WHERE jti = ?');
  const end = db.transaction((jti: string, expiresAt: number, nowSeconds: number) => {
    purge.run(nowSeconds);
    insert.run(jti, expiresAt);
  });
  return {
    end: (jti, expiresAt, nowSeconds) => end.immediate(jti, expiresAt, nowSeconds),
    isEnded: (jti) => find.get(jti) !== undefined,
  };
}
