/**
 * Key events (`key_events`), written in the transaction of the change they describe.
 */
import { encodeKeyEvent, parseKeyEvent, type KeyEvent } from '@akm/common';
import type { KeyHistory } from '../domain/key-history.js';
import type { SqlClient } from './sql-client.js';

/** Creates the key history over a database client. */
export function createKeyHistoryRepository(db: SqlClient): KeyHistory {
  return {
    async append(event) {
      await db.run('INSERT INTO key_events (event_id, key_id, payload) VALUES (?, ?, ?)', [event.id, event.keyId, encodeKeyEvent(event)]);
    },
    async list(keyId, limit, beforeSeq) {
      const rows = await db.all<{ seq: number; payload: string }>(
        'SELECT seq, payload FROM key_events WHERE key_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?',
        [keyId, beforeSeq ?? Number.MAX_SAFE_INTEGER, limit + 1],
      );
      const items = rows.slice(0, limit);
      const last = items[items.length - 1];
      return {
        items: items.map((row) => eventOf(row.payload)),
        next: rows.length > limit && last ? last.seq : undefined,
      };
    },
  };
}

/** A stored event; rows written before event version 2 are read as version 2 (`at` in seconds). */
function eventOf(payload: string): KeyEvent {
  const parsed = parseKeyEvent(payload);
  if (!parsed.ok) throw new Error(`a stored key event cannot be read: ${parsed.error}`);
  return parsed.event;
}
