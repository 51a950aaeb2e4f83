/**
 * The production {@link KeyEventFeed}: an ordered JetStream consumer on the key stream with
 * deliver policy `last_per_subject`, so a verifier rebuilds every key's state from one message
 * per key and then follows live events.
 */
import { DeliverPolicy, JetStreamApiCodes, JetStreamApiError, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import {
  KEY_STREAM,
  KEY_SUBJECTS,
  parseKeyEvent,
  type KeyEventFeed,
  type KeyEventHandler,
  type NatsConnection,
} from '@akm/common';
import { createFeedHealth } from './feed-health.js';

/** Messages asked for per pull while replaying and following the stream. */
const PULL_BATCH = 2000;

/** Options of {@link createJetStreamKeyFeed}. */
export interface JetStreamKeyFeedOptions {
  /** A connection from `connectNats`; the feed does not close it. */
  nc: NatsConnection;
  /** Stream name; `AKM_KEYS` unless isolated. */
  stream?: string;
  /** Subject filter; `akm.keys.*` unless isolated. */
  subjects?: string;
  /** The clock, milliseconds since epoch; also the clock of staleness. */
  now?: () => number;
  /** Called for every message that is not a valid key event (it is skipped, never retried). */
  onUnparseable?: (detail: string, subject: string) => void;
  /** Milliseconds between attempts while the stream does not exist yet or NATS does not answer. Default 500. */
  retryMs?: number;
  /** Called with the reason each time setting up the consumer is retried. */
  onRetry?: (reason: string) => void;
  /**
   * Milliseconds between the server's idle heartbeats. Two missed ones mark the feed out of
   * touch and make the consumer re-create itself (after a cluster node holding it died, the
   * connection may be fine while nothing arrives). Default 1000; the client's own default of
   * 15 s left a verifier deaf, and reporting itself current, for over 30 s after a node failure.
   */
  heartbeatMs?: number;
}

/**
 * Creates a feed over the key stream. `start` resolves once the messages stored when it began
 * were all delivered (replay complete); afterwards live events follow in stream order.
 * @example
 * const feed = createJetStreamKeyFeed({ nc: await connectNats({ url, name: 'verifier' }) });
 */
export function createJetStreamKeyFeed(options: JetStreamKeyFeedOptions): KeyEventFeed {
  const stream = options.stream ?? KEY_STREAM;
  const now = options.now ?? Date.now;
  const health = createFeedHealth(options.nc, now);
  let messages: ConsumerMessages | undefined;
  let stopped = false;
  let replayed = false;

  /** Retries `step` until it succeeds: the stream may not exist yet, or NATS may be briefly away. */
  async function retrying<T>(step: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await step();
      } catch (err) {
        if (stopped) throw err;
        const missing = err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound;
        options.onRetry?.(missing ? `stream ${stream} not found` : (err as Error).message);
        await new Promise((r) => setTimeout(r, options.retryMs ?? 500));
      }
    }
  }

  const heartbeatMs = Math.max(500, options.heartbeatMs ?? 1000);
  let lastSeq = 0;
  let lastSignalAt = Date.now();
  let watchdog: NodeJS.Timeout | undefined;
  let recreating = false;

  /** Creates an ordered consumer from `from` and consumes it with `deliver`. */
  async function follow(from: 'last_per_subject' | number, deliver: (msg: JsMsg) => void, onHeartbeat: () => void): Promise<void> {
    const filter = { filter_subjects: options.subjects ?? KEY_SUBJECTS };
    const consumer = await retrying(() =>
      jetstream(options.nc).consumers.get(
        stream,
        from === 'last_per_subject'
          ? { ...filter, deliver_policy: DeliverPolicy.LastPerSubject }
          : { ...filter, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from },
      ),
    );
    // Pull in large batches: against the client's default of 100, this cuts a replay of a million
    // key states by a fifth (fewer pull requests; bench/cold-start.ts).
    const consumed = await consumer.consume({
      callback: deliver,
      max_messages: PULL_BATCH,
      idle_heartbeat: heartbeatMs,
      expires: Math.max(1000, 2 * heartbeatMs),
    });
    messages = consumed;
    lastSignalAt = Date.now();
    void (async () => {
      for await (const note of consumed.status()) {
        if (note.type === 'heartbeat') {
          lastSignalAt = Date.now();
          health.contact();
          onHeartbeat();
        } else if (note.type === 'heartbeats_missed') {
          health.lost();
        }
      }
    })();
  }

  return {
    async start(handler: KeyEventHandler) {
      health.watch();
      const until = await retrying(async () => {
        const jsm = await jetstreamManager(options.nc);
        return (await jsm.streams.info(stream)).state.last_seq;
      });
      let finishReplay = () => {};
      const replay = new Promise<void>((resolve) => (finishReplay = resolve));
      const markReplayed = () => {
        replayed = true;
        finishReplay();
      };
      if (until === 0) markReplayed();

      const deliver = (msg: JsMsg) => {
        lastSignalAt = Date.now();
        health.contact();
        lastSeq = Math.max(lastSeq, msg.seq);
        const parsed = parseKeyEvent(msg.data);
        // An ordered consumer has no acks: a bad message is skipped (and counted), never redelivered.
        if (parsed.ok) handler(parsed.event);
        else options.onUnparseable?.(parsed.error, msg.subject);
        if (!replayed && (msg.seq >= until || msg.info.pending === 0)) markReplayed();
      };
      // The server sends idle heartbeats only when nothing is left to deliver.
      const onHeartbeat = () => {
        if (!replayed) markReplayed();
      };
      await follow('last_per_subject', deliver, onHeartbeat);

      // After a cluster node that held the consumer died, the client can stay connected while
      // its ordered consumer waits forever for an answer: no message, no heartbeat, no error.
      // Silence for three heartbeats means out of touch; follow again from the last message seen.
      // While disconnected the client's own reconnect does the work; after a reconnect it gets
      // three heartbeats' time to resume before the watchdog steps in.
      let linkUp = true;
      void (async () => {
        for await (const s of options.nc.status()) {
          if (s.type === 'disconnect') linkUp = false;
          else if (s.type === 'reconnect') {
            linkUp = true;
            lastSignalAt = Date.now();
          }
        }
      })();
      watchdog = setInterval(() => {
        if (stopped || recreating || !linkUp || Date.now() - lastSignalAt <= 3 * heartbeatMs) return;
        health.lost();
        recreating = true;
        options.onRetry?.(`no message or heartbeat for ${Date.now() - lastSignalAt} ms; re-creating the consumer after sequence ${lastSeq}`);
        void messages?.close().catch(() => undefined);
        follow(lastSeq === 0 ? 'last_per_subject' : lastSeq + 1, deliver, onHeartbeat)
          .catch(() => undefined)
          .finally(() => (recreating = false));
      }, heartbeatMs);
      watchdog.unref();
      await replay;
    },
    status: () => ({ replayed, ...health.status() }),
    async stop() {
      stopped = true;
      clearInterval(watchdog);
      health.stop();
      await messages?.close();
    },
  };
}
