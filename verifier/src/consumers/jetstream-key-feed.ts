/**
 * The production {@link KeyEventFeed}: an ordered JetStream consumer on the key stream with
 * deliver policy `last_per_subject`, so a verifier rebuilds every key's state from one message
 * per key and then follows live events.
 */
import { DeliverPolicy, JetStreamApiCodes, JetStreamApiError, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import {
  KEY_STREAM,
  KEY_SUBJECTS,
  parseKeyEvent,
  type KeyEventFeed,
  type KeyEventHandler,
  type KeyEventRejectionHandler,
  type NatsConnection,
} from '@akm/common';
import { createFeedHealth } from './feed-health.js';
import { createPullWatch } from './pull-watch.js';

/** Messages asked for per pull while replaying and following the stream. */
const PULL_BATCH = 2000;

/** Options of {@link createJetStreamKeyFeed}. */
export interface JetStreamKeyFeedOptions {
  /** A connection from `connectNats`; the feed does not close it. */
  nc: NatsConnection;
  /** Stream name; `AKM_KEYS` unless isolated. */
  stream?: string;
  /** Subject filter, one key per subject: `akm.keys.*` unless isolated. */
  subjects?: string;
  /** The clock, milliseconds since epoch; also the clock of staleness. */
  now?: () => number;
  /** Milliseconds between attempts while the stream does not exist yet or NATS does not answer. Default 500. */
  retryMs?: number;
  /** Called with the reason each time setting up the consumer is retried or re-done. */
  onRetry?: (reason: string) => void;
  /**
   * Milliseconds between the server's idle heartbeats; a pull request lives twice as long.
   * Three heartbeats of silence mark the feed out of touch and make the consumer re-create
   * itself (after a cluster node holding it died, the connection may be fine while nothing
   * arrives). Default 1000; the client's own default of 15 s left a verifier deaf, and
   * reporting itself current, for over 30 s after a node failure.
   */
  heartbeatMs?: number;
}

/**
 * Creates a feed over the key stream. `start` resolves once the messages stored when it began
 * were all delivered (replay complete); afterwards live events follow in stream order. A message
 * that is not a valid key event, or whose subject is not `<prefix><its keyId>`, is dropped and
 * reported to the `onRejected` handler given to `start`.
 * @example
 * const feed = createJetStreamKeyFeed({ nc: await connectNats({ url, name: 'verifier' }) });
 */
export function createJetStreamKeyFeed(options: JetStreamKeyFeedOptions): KeyEventFeed {
  const stream = options.stream ?? KEY_STREAM;
  const subjects = options.subjects ?? KEY_SUBJECTS;
  // `akm.keys.*` → `akm.keys.`: the subject every event of a key must be published on.
  const subjectPrefix = subjects.replace(/[*>]$/, '');
  const now = options.now ?? Date.now;
  const health = createFeedHealth(options.nc, now);
  const heartbeatMs = Math.max(500, options.heartbeatMs ?? 1000);
  const expiresMs = Math.max(1000, 2 * heartbeatMs);
  let current: { consumer: Consumer; messages: ConsumerMessages } | undefined;
  let stopped = false;
  let replayed = false;
  let lastSeq = 0;
  let resuming = false;
  let wakeRetry: (() => void) | undefined;

  /**
   * Retries `step` until it succeeds: the stream may not exist yet, or NATS may be briefly away.
   * The first retries come quickly (50 ms, doubling up to `retryMs`): right after NATS restarts,
   * JetStream answers within a few hundred milliseconds. A reconnect retries at once.
   */
  async function retrying<T>(step: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await step();
      } catch (err) {
        if (stopped) throw err;
        const missing = err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound;
        options.onRetry?.(missing ? `stream ${stream} not found` : (err as Error).message);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(options.retryMs ?? 500, 50 * 2 ** attempt));
          wakeRetry = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wakeRetry = undefined;
      }
    }
  }

  let deliver: (msg: JsMsg) => void = () => {};
  let onHeartbeat = () => {};

  const watch = createPullWatch({
    nc: options.nc,
    heartbeatMs,
    expiresMs,
    resume: (reason) => resume(reason),
    lost: () => health.lost(),
  });

  /** Creates an ordered consumer from `from` and consumes it. */
  async function follow(from: 'last_per_subject' | number): Promise<void> {
    const filter = { filter_subjects: subjects };
    const consumer = await retrying(() =>
      jetstream(options.nc).consumers.get(
        stream,
        from === 'last_per_subject'
          ? { ...filter, deliver_policy: DeliverPolicy.LastPerSubject }
          : { ...filter, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from },
      ),
    );
    if (stopped) return;
    // Pull in large batches: against the client's default of 100, this cuts a replay of a million
    // key states by a fifth (fewer pull requests; bench/cold-start.ts).
    const messages = await consumer.consume({
      callback: (msg) => {
        watch.message();
        deliver(msg);
      },
      max_messages: PULL_BATCH,
      idle_heartbeat: heartbeatMs,
      expires: expiresMs,
    });
    current = { consumer, messages };
    watch.followed();
    void (async () => {
      for await (const note of messages.status()) {
        if (note.type === 'heartbeat') {
          watch.signal();
          health.contact();
          onHeartbeat();
        } else if (note.type === 'next') {
          watch.pulled();
        } else if (note.type === 'heartbeats_missed') {
          health.lost();
        }
      }
    })();
  }

  /** Follows again from the message after the last one applied, on a new consumer. */
  function resume(reason: string): void {
    if (stopped || resuming) return;
    resuming = true;
    options.onRetry?.(`${reason}; following again after sequence ${lastSeq}`);
    const old = current;
    current = undefined;
    void old?.messages.close().catch(() => undefined);
    // The server would keep an abandoned ephemeral consumer for five minutes.
    void old?.consumer.delete().catch(() => undefined);
    follow(lastSeq === 0 ? 'last_per_subject' : lastSeq + 1)
      .catch(() => undefined)
      .finally(() => (resuming = false));
  }

  return {
    async start(handler: KeyEventHandler, onRejected?: KeyEventRejectionHandler) {
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

      deliver = (msg: JsMsg) => {
        health.contact();
        lastSeq = Math.max(lastSeq, msg.seq);
        // An ordered consumer has no acks: a bad message is dropped (and reported), never redelivered.
        const parsed = parseKeyEvent(msg.data);
        if (!parsed.ok) onRejected?.({ reason: 'unparseable', detail: parsed.error, subject: msg.subject });
        else if (msg.subject !== `${subjectPrefix}${parsed.event.keyId}`) {
          // Only the issuer publishes here, one subject per key; a message on another key's
          // subject is forged or misrouted, and would otherwise replay as that key's state.
          onRejected?.({
            reason: 'wrong_subject',
            detail: `an event of key ${parsed.event.keyId} on subject ${msg.subject}`,
            subject: msg.subject,
            keyId: parsed.event.keyId,
          });
        } else handler(parsed.event);
        if (!replayed && (msg.seq >= until || msg.info.pending === 0)) markReplayed();
      };
      // The server sends idle heartbeats only when nothing is left to deliver.
      onHeartbeat = () => {
        if (!replayed) markReplayed();
      };
      await follow('last_per_subject');
      watch.start(() => wakeRetry?.());
      await replay;
    },
    status: () => ({ replayed, ...health.status() }),
    async stop() {
      stopped = true;
      watch.stop();
      health.stop();
      wakeRetry?.();
      await current?.messages.close();
    },
  };
}
