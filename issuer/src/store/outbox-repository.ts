/**
 * The transactional outbox: an event row is written in the same SQLite transaction as the key
 * change it describes, and marked sent only after JetStream acknowledged it.
 */
import { encodeKeyEvent, type KeyEvent } from '@akm/common';
import type { OutboxEntry, OutboxRepository } from '../domain/outbox.js';
import type { Db } from './database.js';

/** Creates the outbox repository over an open database. */
export function createOutboxRepository(db: Db): OutboxRepository {
  const add = db.prepare('INSERT INTO outbox (event_id, key_id, payload, created_at) VALUES (?, ?, ?, ?)');
  const pending = db.prepare<[number], { seq: number; payload: string }>(
    'SELECT seq, payload FROM outbox WHERE sent_at IS NULL ORDER BY seq LIMIT ?',
  );
  const markSent = db.prepare('UPDATE outbox SET sent_at = ? WHERE seq = ?');
  const backlog = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL');
  const prune = db.prepare(
    'DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox WHERE sent_at IS NOT NULL AND sent_at < ? LIMIT ?)',
  );
  return {
    add(event, nowMs) {
      add.run(event.id, event.keyId, encodeKeyEvent(event), nowMs);
    },
    pending(limit) {
      return pending.all(limit).map((row) => ({ seq: row.seq, event: JSON.parse(row.payload) as KeyEvent }));
    },
    markSent(seq, nowMs) {
      markSent.run(nowMs, seq);
    },
    backlog() {
      return backlog.get()?.n ?? 0;
    },
    prune(beforeMs, limit) {
      return prune.run(beforeMs, limit).changes;
    },
  };
}
