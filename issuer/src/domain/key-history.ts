/**
 * Every event of every key, kept as long as the key (a port: `store/` implements it). The
 * outbox is what goes to the bus and keeps sent events a week; this is what an admin reads
 * back as a key's history.
 */
import type { KeyEvent } from '@akm/common';

/** A page of a key's events, newest first, and the position to continue from. */
export interface KeyEventPage {
  items: KeyEvent[];
  next: number | undefined;
}

/** Appends and reads key events. */
export interface KeyHistory {
  /** Appends an event; call inside the transaction that makes the change. */
  append(event: KeyEvent): Promise<void>;
  /** One page of a key's events, newest first, continuing before `beforeSeq` (exclusive). */
  list(keyId: string, limit: number, beforeSeq?: number): Promise<KeyEventPage>;
}
