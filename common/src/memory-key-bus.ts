/**
 * An in-process key event bus for the embedded default (no `NATS_URL`): the issuer and the
 * verifiers run in one process and share it. It keeps the latest event per key, as the
 * JetStream stream does, so a feed started late still replays every key.
 */
import type { KeyEvent } from './events.js';
import type { KeyEventFeed, KeyEventHandler, KeyEventPublisher } from './key-bus.js';

/** An in-process bus: one publisher side, any number of feeds. */
export interface MemoryKeyBus {
  publisher: KeyEventPublisher;
  /** Creates a new feed over the bus. */
  createFeed(): KeyEventFeed;
  /** Number of keys with a stored event. */
  size(): number;
}

/** Creates an in-process key event bus. */
export function createMemoryKeyBus(): MemoryKeyBus {
  const latest = new Map<string, KeyEvent>();
  const seen = new Set<string>();
  const handlers = new Set<KeyEventHandler>();

  const publisher: KeyEventPublisher = {
    async publish(event) {
      if (seen.has(event.id)) return;
      seen.add(event.id);
      latest.set(event.keyId, event);
      for (const handler of handlers) handler(event);
    },
    isConnected: () => true,
    async close() {},
  };

  function createFeed(): KeyEventFeed {
    let handler: KeyEventHandler | undefined;
    let replayed = false;
    return {
      async start(h) {
        handler = h;
        for (const event of latest.values()) h(event);
        handlers.add(h);
        replayed = true;
      },
      status: () => ({ replayed, connected: true, lastContactAt: Date.now() }),
      async stop() {
        if (handler) handlers.delete(handler);
      },
    };
  }

  return { publisher, createFeed, size: () => latest.size };
}
