/**
 * What the verifier checks in a key event before it applies it, beyond the schema: defence in
 * depth for a bus that someone other than the issuer may be able to publish on. It cannot tell a
 * forged event from a real one (events are not signed; NATS permissions are what keep others
 * out, see docs/verifier.md), but it refuses what the issuer never sends and reports the rest.
 */
import type { KeyEvent, KeyEventRejectionHandler } from '@akm/common';
import type { KeyStateStore } from './key-state-store.js';

/**
 * Leeway on the longest key lifetime, in seconds: the issuer's clock may run ahead of the
 * verifier's, and an event replayed later was checked against an earlier "now".
 */
export const EXPIRY_SLACK_SECONDS = 3600;
/** A version this far above the one held (or above 0 for a new key) is logged as absurd. */
export const ABSURD_VERSION_STEP = 1000;

/** Options of {@link createEventGuard}. */
export interface EventGuardOptions {
  store: KeyStateStore;
  /** The clock, milliseconds since epoch. */
  now: () => number;
  /** The issuer's longest key lifetime, seconds (`AKM_MAX_KEY_TTL_S`). */
  maxKeyLifetimeSeconds: number;
  /** Told of every event refused here. */
  onRejected: KeyEventRejectionHandler;
  /** Told of an event applied although its version jumped absurdly. */
  onVersionJump: (event: KeyEvent, heldVersion: number) => void;
}

/**
 * Creates the check in front of the key-state store. An `expiresAt` further than the longest key
 * lifetime (plus {@link EXPIRY_SLACK_SECONDS}) from now is refused: the issuer never issues or
 * extends a key that far, and such an entry would stay in memory until then. A version that
 * jumps by more than {@link ABSURD_VERSION_STEP} is applied (the issuer's versions only grow)
 * but reported: after it, the key's real changes would be ignored until they catch up.
 */
export function createEventGuard(options: EventGuardOptions): (event: KeyEvent) => void {
  return (event) => {
    const latestExpiryS = Math.floor(options.now() / 1000) + options.maxKeyLifetimeSeconds + EXPIRY_SLACK_SECONDS;
    if (event.expiresAt > latestExpiryS) {
      options.onRejected({
        reason: 'expiry_out_of_range',
        detail: `expiresAt ${event.expiresAt} is beyond the longest key lifetime (${options.maxKeyLifetimeSeconds} s from now)`,
        keyId: event.keyId,
      });
      return;
    }
    const held = options.store.get(event.keyId)?.version ?? 0;
    if (options.store.apply(event) && event.version - held > ABSURD_VERSION_STEP) options.onVersionJump(event, held);
  };
}
