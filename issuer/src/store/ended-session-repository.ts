/**
 * Ended sign-in tokens (`ended_sessions`): one row per signed-out token id until its
 * expiry, so the table never holds more than a sign-in lifetime of sign-outs.
 */
import type { EndedSessions } from '../domain/ended-sessions.js';
import type { SqlClient } from './sql-client.js';

/** Creates the ended-sessions store over a database client. */
export function createEndedSessionRepository(db: SqlClient): EndedSessions {
  return {
    end: (jti, expiresAt, nowSeconds) =>
      db.transaction(async () => {
        await db.run('DELETE FROM ended_sessions WHERE expires_at <= ?', [nowSeconds]);
        await db.run('INSERT INTO ended_sessions (jti, expires_at) VALUES (?, ?) ON CONFLICT (jti) DO NOTHING', [jti, expiresAt]);
      }),
    isEnded: async (jti) => (await db.get('SELECT 1 AS one FROM ended_sessions WHERE jti = ?', [jti])) !== undefined,
  };
}
