/**
 * Publishes the outbox in order. An event is marked sent only after the bus acknowledged it;
 * while the bus is down the relay backs off and retries, and the moment the publisher reconnects
 * it retries at once (from the shortest back-off), so events go out, in order, as soon as the bus
 * is back. The event id is the de-duplication id, so a retry after a lost ack stores nothing twice.
 */
import type { KeyEventPublisher, Logger } from '@akm/common';
import type { OutboxLease, OutboxRepository } from '../domain/outbox.js';

/** Options of {@link createOutboxRelay}. */
export interface OutboxRelayOptions {
  outbox: OutboxRepository;
  /**
   * Among issuers sharing the database, which one publishes: this relay publishes only while it
   * holds the lease, and tries to take it every second. Without it this relay always publishes.
   */
  lease?: OutboxLease;
  publisher: KeyEventPublisher;
  logger: Logger;
  now: () => number;
  /** Events read per batch. */
  batchSize?: number;
  /** Longest wait between retries while the bus is down, ms (default 2000). */
  maxBackoffMs?: number;
  /** Sent events are deleted after this long, ms (default 7 days). */
  retainSentMs?: number;
  /** Called after each published event. */
  onPublished?: () => void;
}

/** The outbox relay. */
export interface OutboxRelay {
  start(): void;
  /** Wakes the relay at once (called after a change was committed). */
  notify(): void;
  /** Resolves once the backlog is empty or `timeoutMs` passed; true when empty. */
  flush(timeoutMs: number): Promise<boolean>;
  stop(): Promise<void>;
}

/** Creates the relay; call `start()` to run it. */
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { outbox, publisher, logger, now } = options;
  const batchSize = options.batchSize ?? 256;
  const maxBackoffMs = options.maxBackoffMs ?? 2000;
  const minBackoffMs = 50;
  let backoff = minBackoffMs;
  const retainSentMs = options.retainSentMs ?? 7 * 24 * 3600 * 1000;
  let running = false;
  let wake: (() => void) | undefined;
  let loop: Promise<void> | undefined;
  let failing = false;
  let lastPrune = 0;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  async function publishBatch(): Promise<'idle' | 'more' | 'failed'> {
    if (options.lease && !(await options.lease.hold())) return 'idle';
    const batch = await outbox.pending(batchSize);
    if (batch.length === 0) return 'idle';
    for (const entry of batch) {
      if (!running) return 'idle';
      try {
        await publisher.publish(entry.event);
      } catch (err) {
        if (!failing) logger.warn({ err: (err as Error).message, backlog: await outbox.backlog().catch(() => undefined) }, 'event bus unavailable; outbox will retry');
        failing = true;
        return 'failed';
      }
      await outbox.markSent(entry.seq, now());
      options.onPublished?.();
    }
    if (failing) logger.info('event bus reachable again; outbox resumed');
    failing = false;
    return 'more';
  }

  async function run(): Promise<void> {
    while (running) {
      let result: 'idle' | 'more' | 'failed';
      try {
        result = await publishBatch();
      } catch (err) {
        // The outbox itself could not be read or marked (disk full, locked): retry like a bus outage.
        logger.warn({ err: (err as Error).message, code: (err as { code?: string }).code }, 'outbox store unavailable; will retry');
        result = 'failed';
      }
      if (result === 'more') {
        backoff = minBackoffMs;
        continue;
      }
      if (result === 'failed') {
        await sleep(backoff);
        backoff = Math.min(backoff * 2, maxBackoffMs);
        continue;
      }
      if (now() - lastPrune > 60_000) {
        lastPrune = now();
        try {
          await outbox.prune(now() - retainSentMs, 1000);
        } catch (err) {
          logger.warn({ err: (err as Error).message }, 'outbox prune failed; will retry in a minute');
        }
      }
      await sleep(1000);
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      options.lease?.onAdded(() => wake?.());
      publisher.onConnected?.(() => {
        backoff = minBackoffMs;
        wake?.();
      });
      loop = run().catch((err) => logger.error({ err }, 'outbox relay stopped'));
    },
    notify() {
      wake?.();
    },
    async flush(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while ((await outbox.backlog().catch(() => 1)) > 0) {
        if (Date.now() > deadline || !running) return false;
        wake?.();
        await new Promise((r) => setTimeout(r, 10));
      }
      return true;
    },
    async stop() {
      running = false;
      wake?.();
      await loop;
      await options.lease?.release();
    },
  };
}
