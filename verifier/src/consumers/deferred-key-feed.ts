/**
 * A {@link KeyEventFeed} whose real feed is opened once it can be: the verifier service starts,
 * listens and answers 503 while NATS is not reachable yet, instead of dying, and follows the
 * stream as soon as the connection is up. Until then it reports itself not replayed and not
 * connected.
 */
import type { KeyEventFeed } from '@akm/common';

/** Options of {@link createDeferredKeyFeed}. */
export interface DeferredKeyFeedOptions {
  /**
   * Opens the real feed, taking as long as it needs (e.g. retrying until NATS answers). It must
   * give up, rejecting, once `signal` is aborted (the feed was stopped).
   */
  open: (signal: AbortSignal) => Promise<KeyEventFeed>;
  /** The clock, milliseconds since epoch. */
  now: () => number;
}

/** Creates the feed; nothing is opened before `start`. */
export function createDeferredKeyFeed(options: DeferredKeyFeedOptions): KeyEventFeed {
  const stopping = new AbortController();
  const since = options.now();
  let inner: KeyEventFeed | undefined;
  return {
    async start(handler, onRejected) {
      const feed = await options.open(stopping.signal);
      inner = feed;
      // Stopped while it was being opened: stop() found nothing to stop yet.
      if (stopping.signal.aborted) {
        await feed.stop();
        throw stopping.signal.reason as Error;
      }
      await feed.start(handler, onRejected);
    },
    status: () => inner?.status() ?? { replayed: false, connected: false, lastContactAt: since },
    async stop() {
      stopping.abort(new Error('key feed stopped'));
      await inner?.stop();
    },
  };
}
