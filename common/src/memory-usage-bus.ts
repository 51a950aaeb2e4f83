/**
 * An in-process usage bus for the embedded default (no `NATS_URL`): a verifier in the issuer's
 * process hands its reports straight to the issuer's handler, through the same interfaces as
 * JetStream. A report published while no handler is listening is refused, so the verifier keeps
 * it and sends it again.
 */
import type { UsageFeed, UsageHandler, UsagePublisher } from './usage-bus.js';

/** An in-process usage bus: one feed, any number of publishers. */
export interface MemoryUsageBus {
  publisher: UsagePublisher;
  feed: UsageFeed;
}

/** Creates an in-process usage bus. */
export function createMemoryUsageBus(): MemoryUsageBus {
  let handler: UsageHandler | undefined;
  // Reports apply one at a time, in order, as a JetStream consumer would deliver them.
  let queue: Promise<void> = Promise.resolve();
  return {
    publisher: {
      publish(report) {
        const current = handler;
        if (!current) return Promise.reject(new Error('no usage consumer is running'));
        const applied = queue.then(() => current(report));
        queue = applied.catch(() => undefined);
        return applied;
      },
    },
    feed: {
      start(h) {
        handler = h;
      },
      async stop() {
        handler = undefined;
        await queue;
      },
    },
  };
}
