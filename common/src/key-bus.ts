/**
 * The two ends of the key event stream, as interfaces akm owns: the domain never sees NATS
 * types. JetStream implements them in production; {@link createMemoryKeyBus} stands in when no
 * `NATS_URL` is configured.
 */
import type { KeyEvent } from './events.js';

/** Where the issuer's outbox relay publishes events. */
export interface KeyEventPublisher {
  /**
   * Publishes one event and resolves once it is durably stored (a JetStream ack). The event id
   * is the de-duplication id, so publishing the same event twice stores it once.
   * Rejects when the bus cannot take it now; the caller retries.
   */
  publish(event: KeyEvent): Promise<void>;
  /** True while connected to the bus. */
  isConnected(): boolean;
  /**
   * Calls `listener` each time the publisher (re)connects to the bus, so a caller waiting out a
   * back-off can retry at once. A bus that is never away may not implement it.
   */
  onConnected?(listener: () => void): void;
  /** Releases the publisher's resources (not the shared connection). */
  close(): Promise<void>;
}

/** Status of a {@link KeyEventFeed}. */
export interface KeyEventFeedStatus {
  /** True once the replay of the stream is complete. */
  replayed: boolean;
  /** True while connected to the bus. */
  connected: boolean;
  /** Milliseconds since epoch of the last sign of life from the bus (a message or heartbeat). */
  lastContactAt: number;
}

/** Handler of a {@link KeyEventFeed}; called in stream order, one event at a time. */
export type KeyEventHandler = (event: KeyEvent) => void;

/** Why a message on the key stream was dropped instead of applied. */
export type KeyEventRejectionReason =
  /** Not a valid key event (bad JSON, unknown type or version, a field out of range). */
  | 'unparseable'
  /** A valid event on a subject other than its own key's (`akm.keys.<keyId>`). */
  | 'wrong_subject'
  /** An `expiresAt` further away than the longest key lifetime. */
  | 'expiry_out_of_range';

/** A message on the key stream that was dropped, and why. */
export interface KeyEventRejection {
  reason: KeyEventRejectionReason;
  /** What was wrong, for the log; never a key string. */
  detail: string;
  /** The subject it came on, when known. */
  subject?: string;
  /** The key it named, when it could be parsed. */
  keyId?: string;
}

/** Told of every message a {@link KeyEventFeed} (or its consumer) drops. */
export type KeyEventRejectionHandler = (rejection: KeyEventRejection) => void;

/** Where a verifier reads key events from: the latest event of every key, then live ones. */
export interface KeyEventFeed {
  /**
   * Starts delivering; resolves once every event stored when it started was delivered. A
   * message that is not a valid event of the key its subject names goes to `onRejected` instead.
   */
  start(handler: KeyEventHandler, onRejected?: KeyEventRejectionHandler): Promise<void>;
  status(): KeyEventFeedStatus;
  stop(): Promise<void>;
}
