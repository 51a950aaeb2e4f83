/**
 * Keeps a pull consumer pulling. The NATS client renews its pull request when the server ends
 * one (a 408 once it expires), so it relies on hearing that end. Three ways it does not:
 *
 * - nats-server 2.9 drops a pull request silently when a message arrives after the request
 *   expired but before the server's expiry timer ran: the client believes the request is still
 *   open and the message waits until two heartbeats are missed (one revocation in ~600 waited
 *   the request's full lifetime, 2 s). Here, a request that should have ended but was followed
 *   by no new one means nothing is pulling: follow again at once.
 * - After NATS comes back, the client re-pulls on its own; if it has not within a moment (its
 *   first look-up failed and it backs off for a whole request lifetime), follow again.
 * - After the cluster node that held the consumer died, the connection may stay up while nothing
 *   arrives at all: three heartbeats of silence mean out of touch; follow again.
 */
import type { NatsConnection } from '@akm/common';

/**
 * How long after a pull request's expiry the client may take to hear its end and pull again
 * before the request counts as silently dropped, in milliseconds. Long enough for a 408 still
 * on the wire; short enough that a revocation caught in the gap still arrives within ~50 ms.
 */
const LAPSE_GRACE_MS = 20;
/** How long after a reconnect the client may take to pull again on its own, in milliseconds. */
const RECONNECT_GRACE_MS = 250;

/** Options of {@link createPullWatch}. */
export interface PullWatchOptions {
  nc: NatsConnection;
  /** Idle heartbeat of the pull requests, ms. */
  heartbeatMs: number;
  /** Lifetime of a pull request, ms. */
  expiresMs: number;
  /** Re-creates the consumer from the last message applied. */
  resume: (reason: string) => void;
  /** The feed is out of touch although the connection may look alive. */
  lost: () => void;
}

/** What the feed tells the watch. */
export interface PullWatch {
  /** Starts watching; `onReconnect` runs when the connection comes back. */
  start(onReconnect: () => void): void;
  /** A new consumer was created and sent its first pull request. */
  followed(): void;
  /** The client sent a pull request. */
  pulled(): void;
  /** A message arrived. Called per message: keep it cheap. */
  message(): void;
  /** A heartbeat arrived. */
  signal(): void;
  stop(): void;
}

/** Creates the watch of one feed's pull requests. */
export function createPullWatch(options: PullWatchOptions): PullWatch {
  const { heartbeatMs, expiresMs } = options;
  let lastPullAt = Date.now();
  let lastMessageAt = 0;
  let lastSignalAt = Date.now();
  let reconnectedAt = 0;
  let linkUp = true;
  let stopped = false;
  let lapseTimer: NodeJS.Timeout | undefined;
  let watchdog: NodeJS.Timeout | undefined;

  /** When, failing a new pull request, nothing is pulling any more. */
  const pullDue = () =>
    Math.max(
      lastPullAt >= reconnectedAt ? lastPullAt + expiresMs + LAPSE_GRACE_MS : reconnectedAt + RECONNECT_GRACE_MS,
      lastMessageAt + LAPSE_GRACE_MS,
    );

  function arm(ms: number): void {
    clearTimeout(lapseTimer);
    lapseTimer = setTimeout(checkLapse, Math.max(1, ms));
    lapseTimer.unref();
  }

  function checkLapse(): void {
    lapseTimer = undefined;
    if (stopped || !linkUp) return;
    const wait = pullDue() - Date.now();
    if (wait > 0) return arm(wait);
    // Let I/O already waiting run first: a 408 ending the request, and the client's next pull.
    setImmediate(() => {
      if (stopped || !linkUp || pullDue() > Date.now()) return;
      const idleMs = Date.now() - Math.max(lastPullAt, reconnectedAt);
      options.resume(
        lastPullAt >= reconnectedAt
          ? `pull request dropped without an answer (none sent for ${idleMs} ms)`
          : `no pull request ${idleMs} ms after reconnecting`,
      );
    });
  }

  return {
    start(onReconnect) {
      arm(pullDue() - Date.now());
      watchdog = setInterval(() => {
        if (stopped || !linkUp || Date.now() - lastSignalAt <= 3 * heartbeatMs) return;
        options.lost();
        options.resume(`no message or heartbeat for ${Date.now() - lastSignalAt} ms`);
      }, heartbeatMs);
      watchdog.unref();
      void (async () => {
        for await (const s of options.nc.status()) {
          if (stopped) return;
          if (s.type === 'disconnect') linkUp = false;
          else if (s.type === 'reconnect') {
            linkUp = true;
            reconnectedAt = lastSignalAt = Date.now();
            arm(RECONNECT_GRACE_MS);
            onReconnect();
          }
        }
      })();
    },
    followed() {
      lastPullAt = lastSignalAt = Date.now();
      arm(expiresMs + LAPSE_GRACE_MS);
    },
    pulled() {
      lastPullAt = Date.now();
      arm(expiresMs + LAPSE_GRACE_MS);
    },
    message() {
      lastMessageAt = lastSignalAt = Date.now();
    },
    signal() {
      lastSignalAt = Date.now();
    },
    stop() {
      stopped = true;
      clearTimeout(lapseTimer);
      clearInterval(watchdog);
    },
  };
}
