/**
 * Whether a feed is in touch with NATS, and since when it is not: the input of the verifier's
 * staleness bound. While healthy the last contact is "now"; once the connection drops (or the
 * consumer misses its heartbeats) it freezes at the last moment it was known healthy.
 */
import type { NatsConnection } from '@akm/common';

/** Health of a feed's link to the bus. */
export interface FeedHealth {
  /** Starts following the connection's status events. */
  watch(): void;
  /** A message or a heartbeat arrived. */
  contact(): void;
  /** The consumer lost its heartbeats although the connection may look alive. */
  lost(): void;
  status(): { connected: boolean; lastContactAt: number };
  stop(): void;
}

/** Creates the health tracker of a feed over `nc`, timed by `now` (milliseconds since epoch). */
export function createFeedHealth(nc: NatsConnection, now: () => number): FeedHealth {
  let connected = !nc.isClosed();
  let lastContactAt = now();
  let watching = false;
  let stopped = false;

  const markLost = () => {
    if (connected) lastContactAt = now();
    connected = false;
  };
  const markContact = () => {
    connected = true;
    lastContactAt = now();
  };

  return {
    watch() {
      if (watching) return;
      watching = true;
      void (async () => {
        for await (const s of nc.status()) {
          if (stopped) return;
          if (s.type === 'disconnect' || s.type === 'staleConnection' || s.type === 'close') markLost();
          else if (s.type === 'reconnect') markContact();
        }
      })();
      void nc.closed().then(() => markLost());
    },
    contact: markContact,
    lost: markLost,
    status() {
      const ok = connected && !nc.isClosed();
      return { connected: ok, lastContactAt: ok ? now() : lastContactAt };
    },
    stop() {
      stopped = true;
    },
  };
}
