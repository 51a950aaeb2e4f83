/**
 * The transactional outbox: an event row is written in the same transaction as the key
 * change it describes, and marked sent only after JetStream acknowledged it.
 */
import { encodeKeyEvent, type KeyEvent } from '@akm/common';
import type { OutboxEntry, OutboxRepository } from '../domain/outbox.js';
import { OUTBOX_CHANNEL } from './postgres-outbox-lease.js';
import type { SqlClient } from './sql-client.js';

/** Creates the outbox repository over a database client. */
export function createOutboxRepository(db: SqlClient): OutboxRepository {
  return {
    async add(event, nowMs) {
      await db.run('INSERT INTO outbox (event_id, key_id, payload, created_at) VALUES (?, ?, ?, ?)', [
        event.id, event.keyId, encodeKeyEvent(event), nowMs,
      ]);
      // Wakes the replica that publishes (see postgres-outbox-lease.ts); sent when the transaction commits.
      if (db.dialect === 'postgres') await db.get(`SELECT pg_notify('${OUTBOX_CHANNEL}', '')`);
    },
    async pending(limit) {
      const rows = await db.all<{ seq: number; payload: string }>(
        'SELECT seq, payload FROM outbox WHERE sent_at IS NULL ORDER BY seq LIMIT ?',
        [limit],
      );
      return rows.map((row) => ({ seq: row.seq, event: JSON.parse(row.payload) as KeyEvent }));
    },
    async markSent(seq, nowMs) {
      await db.run('UPDATE outbox SET sent_at = ? WHERE seq = ?', [nowMs, seq]);
    },
    async backlog() {
      return (await db.get<{ n: number }>('SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL'))?.n ?? 0;
    },
    prune(beforeMs, limit) {
      return db.run('DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox WHERE sent_at IS NOT NULL AND sent_at < ? LIMIT ?)', [
        beforeMs, limit,
      ]);
    },
  };
}
