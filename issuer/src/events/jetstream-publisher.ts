/**
 * A {@link KeyEventPublisher} over JetStream: one subject per key, the event id as
 * `Nats-Msg-Id` so the server drops a duplicate of an event already stored.
 */
import { jetstream } from '@nats-io/jetstream';
import {
  encodeKeyEvent,
  keySubject,
  type KeyEventPublisher,
  type NatsConnection,
} from '../../../common/src/index.js';

/** Options of {@link createJetStreamPublisher}. */
export interface JetStreamPublisherOptions {
  nc: NatsConnection;
  /** How long to wait for the stream's ack, ms. */
  timeoutMs?: number;
}

/** Creates a publisher over an open NATS connection (the connection stays the caller's). */
export function createJetStreamPublisher(options: JetStreamPublisherOptions): KeyEventPublisher {
  const { nc } = options;
  const js = jetstream(nc, { timeout: options.timeoutMs ?? 2000 });
  let connected = true;
  (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') connected = false;
      else if (s.type === 'reconnect') connected = true;
    }
  })().catch(() => undefined);

  return {
    async publish(event) {
      await js.publish(keySubject(event.keyId), encodeKeyEvent(event), { msgID: event.id });
    },
    isConnected: () => connected && !nc.isClosed(),
    async close() {},
  };
}
