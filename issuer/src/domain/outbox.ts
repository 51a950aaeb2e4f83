/**
 * The transactional outbox as the key service and the relay need it (a port: `store/`
 * implements it): an event is added in the transaction of the change it describes, and marked
 * sent only after the bus acknowledged it.
 */
import type { KeyEvent } from '@akm/common';

/** A pending outbox entry. */
export interface OutboxEntry {
  seq: number;
  event: KeyEvent;
}

/** Reads and writes the outbox. */
export interface OutboxRepository {
  /** Adds an event; call inside the transaction that makes the change. */
  add(event: KeyEvent, nowMs: number): Promise<void>;
  /** The oldest unsent events, in order. */
  pending(limit: number): Promise<OutboxEntry[]>;
  markSent(seq: number, nowMs: number): Promise<void>;
  /** Number of unsent events. */
  backlog(): Promise<number>;
  /** Deletes up to `limit` events sent before `beforeMs`; returns how many. */
  prune(beforeMs: number, limit: number): Promise<number>;
}
