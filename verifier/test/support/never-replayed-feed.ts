/**
 * A key event feed whose replay never ends: a verifier on it stays unready (503 `unavailable`).
 */
import type { KeyEventFeed } from '@akm/common';

/** A feed that never finishes replaying. */
export function neverReplayedFeed(): KeyEventFeed {
  return { start: () => new Promise(() => {}), status: () => ({ replayed: false, connected: false, lastContactAt: 0 }), stop: async () => {} };
}
