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

/**
 * Which of several issuers sharing one database publishes the outbox (a port: `store/`
 * implements it for PostgreSQL). One at a time, so events go out once and in order; when the
 * holder dies its lease ends with its connection and another takes over within a poll.
 */
export interface OutboxLease {
  /** True while this process holds the lease, taking it when it is free. */
  hold(): Promise<boolean>;
  /** Calls `listener` when any issuer committed outbox events (so the holder publishes at once). */
  onAdded(listener: () => void): void;
  /** Gives the lease up (at shutdown). */
  release(): Promise<void>;
}
