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
} from '../../../common/src/index.js';
import { createFeedHealth } from './feed-health.js';

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

      const consumer = await retrying(() =>
        jetstream(options.nc).consumers.get(stream, {
          filter_subjects: options.subjects ?? KEY_SUBJECTS,
          deliver_policy: DeliverPolicy.LastPerSubject,
        }),
      );
      const deliver = (msg: JsMsg) => {
        health.contact();
        const parsed = parseKeyEvent(msg.data);
        // An ordered consumer has no acks: a bad message is skipped (and counted), never redelivered.
        if (parsed.ok) handler(parsed.event);
        else options.onUnparseable?.(parsed.error, msg.subject);
        if (!replayed && (msg.seq >= until || msg.info.pending === 0)) markReplayed();
      };
      messages = await consumer.consume({ callback: deliver });
      void (async () => {
        for await (const note of messages.status()) {
          if (note.type === 'heartbeat') {
            health.contact();
            // The server sends idle heartbeats only when nothing is left to deliver.
            if (!replayed) markReplayed();
          } else if (note.type === 'heartbeats_missed') {
            health.lost();
          }
        }
      })();
      await replay;
    },
    status: () => ({ replayed, ...health.status() }),
    async stop() {
      stopped = true;
      health.stop();
      await messages?.close();
    },
  };
}
